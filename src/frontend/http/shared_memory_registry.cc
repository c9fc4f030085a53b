#include "frontend/http/shared_memory_registry.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "frontend/http/fault_guard.h"

namespace switchyard::http {

// A mapping of [offset, offset + byte_size) of one object, unmapped when the last holder (the
// registry or a request) lets go.
struct SharedMemoryRegistry::Region {
  SharedMemoryRegionInfo info;
  void* mapping = nullptr;
  std::size_t mapping_size = 0;
  std::byte* bytes = nullptr;         // the region's first byte, inside the mapping
  std::unique_ptr<FaultGuard> guard;  // while mapped: a truncated object cannot end the server

  Region() = default;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() {
    guard.reset();
    if (mapping != nullptr) ::munmap(mapping, mapping_size);
  }
};

namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > SharedMemoryRegistry::kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool ValidKey(std::string_view key) {
  return key.size() >= 2 && key.size() <= 255 && key.front() == '/' &&
         key.find('/', 1) == std::string_view::npos && key.find('\0') == std::string_view::npos &&
         key != "/." && key != "/..";
}

Status AlreadyRegistered(std::string_view name) {
  return Status(StatusCode::kAlreadyExists,
                fmt::format("shared-memory region '{}' is already registered", name));
}

std::string NotRegistered(std::string_view name) {
  return fmt::format("no shared-memory region '{}' is registered",
                     name.substr(0, SharedMemoryRegistry::kMaxNameLength));
}

// OK when [offset, offset + size) lies within `limit` bytes (without overflow).
bool Fits(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

}  // namespace

Status Truncated(std::string_view field, std::string_view region) {
  return FailedPrecondition(
      fmt::format("{}: shared-memory region '{}' was truncated by its owner while registered; "
                  "unregister it and register it again",
                  field, region));
}

Status SharedMemoryRegistry::Register(const SharedMemoryRegionInfo& info) {
  if (!ValidName(info.name)) {
    return InvalidArgument(fmt::format(
        "shared-memory region name '{}' must be 1-{} characters of A-Z, a-z, 0-9, '_', '-', '.'",
        info.name.substr(0, kMaxNameLength), kMaxNameLength));
  }
  if (!ValidKey(info.key)) {
    return InvalidArgument(
        fmt::format("region '{}': key '{}' must be '/' followed by 1-254 characters without '/'",
                    info.name, info.key.substr(0, 255)));
  }
  if (info.byte_size == 0) {
    return InvalidArgument(fmt::format("region '{}': byte_size must be at least 1", info.name));
  }
  {
    MutexLock lock(&mu_);
    if (regions_.contains(info.name)) {
      return AlreadyRegistered(info.name);
    }
  }
  const int fd = ::shm_open(info.key.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    return NotFound(fmt::format("region '{}': cannot open shared-memory object '{}': {}", info.name,
                                info.key, std::strerror(errno)));
  }
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const uint64_t object_size = stat_ok ? static_cast<uint64_t>(st.st_size) : 0;
  if (!stat_ok || !Fits(info.offset, info.byte_size, object_size)) {
    ::close(fd);
    return InvalidArgument(
        fmt::format("region '{}': offset {} + byte_size {} is past the end of '{}' ({} bytes)",
                    info.name, info.offset, info.byte_size, info.key, object_size));
  }
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t map_start = info.offset - info.offset % page;
  auto region = std::make_shared<Region>();
  region->info = info;
  region->mapping_size = static_cast<std::size_t>(info.offset - map_start + info.byte_size);
  void* mapping = ::mmap(nullptr, region->mapping_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                         static_cast<off_t>(map_start));
  const int map_errno = errno;
  ::close(fd);
  if (mapping == MAP_FAILED) {
    return InvalidArgument(fmt::format("region '{}': cannot map '{}': {}", info.name, info.key,
                                       std::strerror(map_errno)));
  }
  region->mapping = mapping;
  region->bytes = static_cast<std::byte*>(mapping) + (info.offset - map_start);
  region->guard = FaultGuard::Guard(mapping, region->mapping_size);
  if (region->guard == nullptr) {
    return FailedPrecondition(
        fmt::format("{} shared-memory regions are mapped (some still used by requests after "
                    "their unregistration), the most there may be; retry later",
                    FaultGuard::kMaxGuarded));
  }

  MutexLock lock(&mu_);
  if (regions_.size() >= kMaxRegions) {
    return FailedPrecondition(fmt::format(
        "{} shared-memory regions are registered, the most there may be; unregister one first",
        kMaxRegions));
  }
  if (!regions_.emplace(info.name, std::move(region)).second) {  // registered meanwhile
    return AlreadyRegistered(info.name);
  }
  return Status::Ok();
}

Status SharedMemoryRegistry::Unregister(std::string_view name) {
  std::shared_ptr<const Region> gone;  // unmapped after the lock, if no request holds it
  MutexLock lock(&mu_);
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return NotFound(NotRegistered(name));
  }
  gone = std::move(it->second);
  regions_.erase(it);
  return Status::Ok();
}

void SharedMemoryRegistry::UnregisterAll() {
  std::map<std::string, std::shared_ptr<const Region>, std::less<>> gone;
  MutexLock lock(&mu_);
  gone.swap(regions_);
}

StatusOr<std::vector<SharedMemoryRegionInfo>> SharedMemoryRegistry::List(
    std::optional<std::string_view> name) const {
  MutexLock lock(&mu_);
  std::vector<SharedMemoryRegionInfo> infos;
  if (name) {
    auto it = regions_.find(*name);
    if (it == regions_.end()) {
      return NotFound(NotRegistered(*name));
    }
    infos.push_back(it->second->info);
    return infos;
  }
  infos.reserve(regions_.size());
  for (const auto& [unused, region] : regions_) infos.push_back(region->info);
  return infos;
}

std::string SharedMemoryRegistry::MetricsText() const {
  std::size_t count = 0;
  uint64_t bytes = 0;
  {
    MutexLock lock(&mu_);
    count = regions_.size();
    for (const auto& [unused, region] : regions_) bytes += region->info.byte_size;
  }
  return fmt::format(
      "# HELP switchyard_shared_memory_regions System shared-memory regions registered by "
      "clients.\n# TYPE switchyard_shared_memory_regions gauge\n"
      "switchyard_shared_memory_regions {}\n"
      "# HELP switchyard_shared_memory_bytes Bytes of the registered shared-memory regions.\n"
      "# TYPE switchyard_shared_memory_bytes gauge\nswitchyard_shared_memory_bytes {}\n",
      count, bytes);
}

StatusOr<SharedMemorySpan> SharedMemoryRegistry::Find(std::string_view name, uint64_t offset,
                                                      uint64_t byte_size,
                                                      std::string_view field) const {
  std::shared_ptr<const Region> region;
  {
    MutexLock lock(&mu_);
    auto it = regions_.find(name);
    if (it != regions_.end()) region = it->second;
  }
  if (region == nullptr) {
    return NotFound(fmt::format("{}: {}", field, NotRegistered(name)));
  }
  if (!Fits(offset, byte_size, region->info.byte_size)) {
    return InvalidArgument(fmt::format(
        "{}: shared_memory_offset {} + shared_memory_byte_size {} is past the end of region "
        "'{}' ({} bytes)",
        field, offset, byte_size, region->info.name, region->info.byte_size));
  }
  if (region->guard->faulted()) return Truncated(field, region->info.name);
  std::span<std::byte> bytes(region->bytes + offset, static_cast<std::size_t>(byte_size));
  const FaultGuard* guard = region->guard.get();
  return SharedMemorySpan{bytes, std::move(region), guard};
}

}  // namespace switchyard::http
