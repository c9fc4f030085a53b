#include "plugin/elf_exports.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <span>

namespace switchyard::plugin {
namespace {

// A read-only mapping of a whole file; empty when it cannot be mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      void* data =
          mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (data != MAP_FAILED)
        bytes_ = {static_cast<const std::byte*>(data), static_cast<std::size_t>(st.st_size)};
    }
    close(fd);
  }
  ~MappedFile() {
    if (!bytes_.empty()) munmap(const_cast<std::byte*>(bytes_.data()), bytes_.size());
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // The `count` objects of type T at `offset`, or empty when they do not lie in the file.
  template <typename T>
  std::span<const T> At(uint64_t offset, uint64_t count) const {
    if (offset > bytes_.size() || count > (bytes_.size() - offset) / sizeof(T) ||
        offset % alignof(T) != 0) {
      return {};
    }
    return {reinterpret_cast<const T*>(bytes_.data() + offset), static_cast<std::size_t>(count)};
  }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
};

}  // namespace

bool ElfExports(const std::string& path, std::string_view symbol) {
  MappedFile file(path);
  auto header = file.At<Elf64_Ehdr>(0, 1);
  if (header.empty() || std::memcmp(header[0].e_ident, ELFMAG, SELFMAG) != 0 ||
      header[0].e_ident[EI_CLASS] != ELFCLASS64 || header[0].e_ident[EI_DATA] != ELFDATA2LSB ||
      header[0].e_shentsize != sizeof(Elf64_Shdr)) {
    return false;
  }
  auto sections = file.At<Elf64_Shdr>(header[0].e_shoff, header[0].e_shnum);
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_type != SHT_DYNSYM || section.sh_entsize != sizeof(Elf64_Sym) ||
        section.sh_link >= sections.size()) {
      continue;
    }
    const Elf64_Shdr& strings = sections[section.sh_link];
    auto names = file.At<char>(strings.sh_offset, strings.sh_size);
    auto symbols = file.At<Elf64_Sym>(section.sh_offset, section.sh_size / sizeof(Elf64_Sym));
    for (const Elf64_Sym& sym : symbols) {
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= names.size()) continue;
      const unsigned bind = ELF64_ST_BIND(sym.st_info);
      if (bind != STB_GLOBAL && bind != STB_WEAK) continue;
      const char* name = names.data() + sym.st_name;
      const std::size_t room = names.size() - sym.st_name;
      if (symbol.size() < room && std::memcmp(name, symbol.data(), symbol.size()) == 0 &&
          name[symbol.size()] == '\0') {
        return true;
      }
    }
  }
  return false;
}

}  // namespace switchyard::plugin
