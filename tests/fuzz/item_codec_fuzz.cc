// Fuzz target: the store's item codec (store/include/eddy/store/item_codec.h)
// on arbitrary stored bytes: DecodeItem, VisitItem and StoredItemSize.
//
// Properties (the header's promises): VisitItem fails exactly when
// DecodeItem does; on success both agree on the size, which is the decoded
// item's ItemSize, and so does StoredItemSize; the visitor's calls are well
// nested with the announced counts; and the decoded item re-encodes to
// bytes that decode to the same item.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eddy/store/item_codec.h"
#include "fuzz_util.h"

namespace eddy::store {
namespace {

// Checks that the calls nest and match the counts they announce.
class CheckingVisitor : public ItemVisitor {
 public:
  bool Name(std::string_view) override {
    EDDY_FUZZ_CHECK(!open_.empty() && open_.back().kind == 'M');
    EDDY_FUZZ_CHECK(!expect_value_);
    Count();
    // Skip some values (no callbacks for them): they must still be checked.
    expect_value_ = (++names_ % 3) != 0;
    return expect_value_;
  }
  void Scalar(ValueType type, std::string_view) override {
    EDDY_FUZZ_CHECK(type == ValueType::kS || type == ValueType::kN ||
                    type == ValueType::kB);
    Value();
  }
  void Bool(bool) override { Value(); }
  void Null() override { Value(); }
  void BeginMap(size_t count) override {
    Value();
    open_.push_back({'M', count});
  }
  void EndMap() override { End('M'); }
  void BeginList(size_t count) override {
    Value();
    open_.push_back({'L', count});
  }
  void EndList() override { End('L'); }
  void BeginSet(ValueType type, size_t count) override {
    EDDY_FUZZ_CHECK(count >= 1);
    EDDY_FUZZ_CHECK(type == ValueType::kSS || type == ValueType::kNS ||
                    type == ValueType::kBS);
    Value();
    open_.push_back({'S', count});
  }
  void SetMember(std::string_view) override {
    EDDY_FUZZ_CHECK(!open_.empty() && open_.back().kind == 'S');
    EDDY_FUZZ_CHECK(open_.back().left > 0);
    --open_.back().left;
  }
  void EndSet() override { End('S'); }

  // The item itself is a map whose count is not announced.
  void BeginItem() { open_.push_back({'M', SIZE_MAX}); }
  bool balanced() const { return open_.size() == 1 && !expect_value_; }

 private:
  struct Open {
    char kind;
    size_t left;
  };

  // A map counts its names, a list its values.
  void Value() {
    if (open_.back().kind == 'M') {
      EDDY_FUZZ_CHECK(expect_value_);
      expect_value_ = false;
    } else {
      EDDY_FUZZ_CHECK(open_.back().kind == 'L');
      Count();
    }
  }
  void Count() {
    if (open_.back().left == SIZE_MAX) return;
    EDDY_FUZZ_CHECK(open_.back().left > 0);
    --open_.back().left;
  }
  void End(char kind) {
    EDDY_FUZZ_CHECK(open_.size() > 1 && open_.back().kind == kind);
    EDDY_FUZZ_CHECK(open_.back().left == 0);
    open_.pop_back();
  }

  std::vector<Open> open_;
  bool expect_value_ = false;
  size_t names_ = 0;
};

}  // namespace
}  // namespace eddy::store

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::store;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const eddy::Result<Item> decoded = DecodeItem(bytes);
  const eddy::Result<size_t> visited = VisitItem(bytes, nullptr);
  CheckingVisitor visitor;
  visitor.BeginItem();
  const eddy::Result<size_t> walked = VisitItem(bytes, &visitor);
  EDDY_FUZZ_CHECK(decoded.ok() == visited.ok());
  EDDY_FUZZ_CHECK(decoded.ok() == walked.ok());
  if (!decoded.ok()) {
    EDDY_FUZZ_CHECK(decoded.status().IsCorruption());
    EDDY_FUZZ_CHECK(visited.status().message() == decoded.status().message());
    return 0;
  }
  EDDY_FUZZ_CHECK(visitor.balanced());
  const size_t size_of_item = ItemSize(*decoded);
  EDDY_FUZZ_CHECK(*visited == size_of_item);
  EDDY_FUZZ_CHECK(*walked == size_of_item);
  const eddy::Result<size_t> stored = StoredItemSize(bytes);
  EDDY_FUZZ_CHECK(stored.ok() && *stored == size_of_item);

  std::string encoded;
  EncodeItem(*decoded, &encoded);
  const eddy::Result<Item> again = DecodeItem(encoded);
  EDDY_FUZZ_CHECK(again.ok() && *again == *decoded);
  return 0;
}
