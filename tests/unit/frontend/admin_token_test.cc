// Who may make management calls: with a token, whoever carries it; without one, clients on this
// machine only.
#include "frontend/http/admin_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchyard::http {
namespace {

using ::testing::HasSubstr;

HttpRequest From(bool loopback, std::optional<std::string> authorization = std::nullopt) {
  HttpRequest request;
  request.peer_loopback = loopback;
  request.authorization = std::move(authorization);
  return request;
}

TEST(AdminTokenTest, WithoutATokenOnlyClientsOnThisMachineMayManage) {
  EXPECT_FALSE(RefuseWithoutToken(From(/*loopback=*/true), "", "repository API").has_value());
  auto refused = RefuseWithoutToken(From(/*loopback=*/false), "", "repository API");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 403u);
  EXPECT_THAT(refused->body, HasSubstr("--admin-token"));
  EXPECT_THAT(refused->body, HasSubstr("repository API"));
}

TEST(AdminTokenTest, WithATokenWhereverTheClientIsOnlyTheTokenCounts) {
  for (bool loopback : {true, false}) {
    EXPECT_FALSE(RefuseWithoutToken(From(loopback, "Bearer s3cret"), "s3cret", "API").has_value());
    auto missing = RefuseWithoutToken(From(loopback), "s3cret", "API");
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(missing->status, 401u);
    auto wrong = RefuseWithoutToken(From(loopback, "Bearer s3creT"), "s3cret", "API");
    ASSERT_TRUE(wrong.has_value());
    EXPECT_EQ(wrong->status, 401u);
  }
}

}  // namespace
}  // namespace switchyard::http
