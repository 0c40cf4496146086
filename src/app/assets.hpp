#pragma once
// The demo page's files compiled into the binary (see cmake/embed_assets.cmake): the page, the
// official Action Cable client and the @anycable/web modules ("/", "/chat.js",
// "/vendor/@anycable/web/index.js"), served through ServerOptions::static_files.
#include <cablecast/server.hpp>
#include <span>

namespace cablecast::app {

std::span<const StaticFile> embedded_assets();

}  // namespace cablecast::app
