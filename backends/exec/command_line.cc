#include "exec/command_line.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace switchyard::exec {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// "" when `path` is an executable regular file, otherwise why not.
std::string ExecutableProblem(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? "does not exist" : std::strerror(errno);
  }
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (access(path.c_str(), X_OK) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("is not executable (mode ") + mode + ")";
  }
  return "";
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

sdk::StatusOr<std::vector<std::string>> SplitCommand(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started (possibly empty, as with "")
  size_t i = 0;
  while (i < command.size()) {
    char c = command[i];
    if (c == '\0') return sdk::InvalidArgument("command contains a NUL character");
    if (IsSpace(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      size_t end = command.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return sdk::InvalidArgument("command has an unterminated ' quote at offset " +
                                    std::to_string(i));
      }
      std::string_view part = command.substr(i + 1, end - i - 1);
      if (part.find('\0') != std::string_view::npos) {
        return sdk::InvalidArgument("command contains a NUL character");
      }
      word.append(part);
      i = end + 1;
    } else if (c == '"') {
      size_t start = i;
      ++i;
      bool closed = false;
      while (i < command.size()) {
        char d = command[i];
        if (d == '\0') return sdk::InvalidArgument("command contains a NUL character");
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < command.size() &&
            (command[i + 1] == '"' || command[i + 1] == '\\')) {
          word.push_back(command[i + 1]);
          i += 2;
          continue;
        }
        word.push_back(d);
        ++i;
      }
      if (!closed) {
        return sdk::InvalidArgument("command has an unterminated \" quote at offset " +
                                    std::to_string(start));
      }
    } else if (c == '\\') {
      if (i + 1 >= command.size()) return sdk::InvalidArgument("command ends with a backslash");
      if (command[i + 1] == '\0') return sdk::InvalidArgument("command contains a NUL character");
      word.push_back(command[i + 1]);
      i += 2;
    } else {
      word.push_back(c);
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return sdk::InvalidArgument("command is empty");
  return words;
}

sdk::StatusOr<std::string> ResolveProgram(const std::string& argv0, const std::string& version_dir,
                                          std::string_view path_env) {
  if (argv0.empty()) return sdk::InvalidArgument("the program name is empty");
  std::string path;
  if (argv0[0] == '/') {
    path = argv0;
  } else if (argv0.find('/') != std::string::npos) {
    path = version_dir + "/" + argv0;
  } else {
    std::string local = version_dir + "/" + argv0;
    if (Exists(local)) {
      path = std::move(local);
    } else {
      size_t pos = 0;
      while (pos <= path_env.size()) {
        size_t end = path_env.find(':', pos);
        if (end == std::string_view::npos) end = path_env.size();
        std::string_view dir = path_env.substr(pos, end - pos);
        pos = end + 1;
        // Relative PATH entries would depend on the server's working directory: skipped.
        if (dir.empty() || dir[0] != '/') continue;
        std::string candidate = std::string(dir) + "/" + argv0;
        if (ExecutableProblem(candidate).empty()) {
          path = std::move(candidate);
          break;
        }
      }
      if (path.empty()) {
        return sdk::InvalidArgument(
            "program " + QuoteForDisplay(argv0) + " not found: not in the version folder " +
            version_dir + " and not an executable on PATH (" + std::string(path_env) + ")");
      }
    }
  }
  std::string problem = ExecutableProblem(path);
  if (!problem.empty()) {
    return sdk::InvalidArgument("program " + QuoteForDisplay(path) + " " + problem);
  }
  return path;
}

std::string QuoteForDisplay(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("_./=:+-", c) != nullptr;
    if (!ok || c == '\0') plain = false;
  }
  if (plain) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

}  // namespace switchyard::exec
