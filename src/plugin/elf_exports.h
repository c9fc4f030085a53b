#pragma once
// Whether a shared library exports a symbol, read from its ELF dynamic symbol table without
// loading it: asking a plugin that lacks an optional export (the torch plugin) then costs no
// dlopen of its framework. Thread-safety: a pure function of the file.

#include <string>
#include <string_view>

namespace switchyard::plugin {

// True when the 64-bit little-endian ELF file at `path` defines `symbol` in .dynsym (a global or
// weak function or object, not an undefined reference). False for anything else: no such file,
// not ELF64, a malformed table.
bool ElfExports(const std::string& path, std::string_view symbol);

}  // namespace switchyard::plugin
