#pragma once
// The query of a request target (`/v2/models/m/predict?a=1&b=x%20y`), for plain-HTTP routes that
// take parameters in the URL. A pure function.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/status.h"

namespace switchyard::http {

// The parameters of the query of `target` (what follows its first '?'; none when it has no '?'),
// in order, as (key, value) pairs split at '&' and at each pair's first '='. Keys and values are
// percent-decoded and '+' reads as a space (application/x-www-form-urlencoded); the decoded bytes
// are not checked to be UTF-8. A pair without '=' has the value ""; empty pairs (`a=1&&b=2`, a
// trailing '&') are skipped; a pair with an empty key (`=v`) is kept; repeated keys are kept in
// order. '#' is not special (a client does not send a fragment).
//
// InvalidArgument for a '%' not followed by two hex digits, or for more than `max_params` pairs
// (checked before anything is decoded).
StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view target,
                                                                      std::size_t max_params = 256);

}  // namespace switchyard::http
