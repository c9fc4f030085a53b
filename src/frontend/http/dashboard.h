#pragma once
// The live dashboard served at `/`: one self-contained HTML page (dashboard.html, embedded at
// build time) that polls the server's JSON endpoints and /metrics.

#include <string_view>

namespace switchyard::http {

std::string_view DashboardHtml();

}  // namespace switchyard::http
