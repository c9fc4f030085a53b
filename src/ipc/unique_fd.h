#pragma once
// UniqueFd: sole owner of one file descriptor, closed when the owner goes away (the backend
// SDK's, under the name the server's code uses). Move-only; a value type.

#include "switchyard/backend_sdk/unique_fd.h"

namespace switchyard::ipc {

using UniqueFd = sdk::UniqueFd;

}  // namespace switchyard::ipc
