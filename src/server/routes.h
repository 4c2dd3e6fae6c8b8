// The route families the daemon serves, each registered by its own file.
#pragma once

#include <httplib.h>

#include "server/server_context.h"

namespace locara::server {

void add_openai_routes(httplib::Server& http, ServerContext& context);    // /v1/...
void add_ollama_routes(httplib::Server& http, ServerContext& context);    // /api/...
void add_locara_routes(httplib::Server& http, ServerContext& context);    // /locara/v1/...
void add_health_routes(httplib::Server& http, ServerContext& context);    // /health, /metrics
void add_template_routes(httplib::Server& http, ServerContext& context);  // /apply-template

}  // namespace locara::server
