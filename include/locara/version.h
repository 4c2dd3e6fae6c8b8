// The public API's version. The runtime's public interface (models, sessions, apps and
// budgets) lands here with the runtime layer; until then the CLI uses src/engine directly.
#pragma once

#define LOCARA_VERSION_MAJOR 0
#define LOCARA_VERSION_MINOR 1
#define LOCARA_VERSION_PATCH 0
#define LOCARA_VERSION_STRING "0.1.0"
