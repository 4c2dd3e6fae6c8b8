# Warnings and sanitizer flags shared by every target.
add_compile_options(-Wall -Wextra -Wno-missing-field-initializers)
# Never fuse a*b+c into FMA behind our back: the reference kernels must round as ggml does
# (GCC contracts by default on arm64, which would move quantized values by one ulp).
add_compile_options(-ffp-contract=off)
if(LOCARA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# locara_layer(NAME DEPS...) builds src/NAME/*.cpp into library locara_NAME.
# Sources are globbed so that adding a file to a layer needs no CMake edit.
function(locara_layer name)
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  if(sources)
    add_library(locara_${name} STATIC ${sources})
    set(scope PUBLIC)
  else()  # a layer with headers only (so far)
    add_library(locara_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(locara_${name} ${scope} ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(locara_${name} ${scope} ${ARGN})
endfunction()
