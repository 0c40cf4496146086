#pragma once
// Static files compiled into the binary (see cmake/embed_assets.cmake).
#include <span>
#include <string_view>

namespace cablecast::server {

struct Asset {
  std::string_view url;           // "/", "/chat.js", "/vendor/@anycable/web/index.js"
  std::string_view content_type;  // with charset for text
  std::string_view bytes;
};

std::span<const Asset> embedded_assets();

}  // namespace cablecast::server
