#pragma once
// A plain-text table for command output: each column padded to its widest cell.

#include <string>
#include <vector>

namespace switchyard {

// Not thread-safe; build, render, discard.
class TextTable {
 public:
  // `right_aligned[i]`: cells of column i are right-aligned (numbers).
  // REQUIRES: header.size() == right_aligned.size() >= 1.
  TextTable(std::vector<std::string> header, std::vector<bool> right_aligned);

  // REQUIRES: cells.size() == the header's size.
  void AddRow(std::vector<std::string> cells);

  // The header and the rows, one line each ending in '\n'; columns separated by two spaces;
  // no trailing spaces.
  std::string Render() const;

 private:
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

}  // namespace switchyard
