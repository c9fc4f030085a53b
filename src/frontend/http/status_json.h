#pragma once
// JSON for switchyard's own status endpoints (not part of KServe v2):
// GET /v2/status -> {"live","ready","devices":[...],"models":[...]} and
// GET /v2/devices -> {"devices":[...]}. Field names follow include/switchyard/server_status.h.

#include <string>

#include "switchyard/server_status.h"

namespace switchyard::http {

std::string ServerStatusJson(const ServerStatus& status);
std::string DevicesJson(const ServerStatus& status);

}  // namespace switchyard::http
