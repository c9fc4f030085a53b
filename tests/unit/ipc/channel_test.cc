#include "ipc/channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ipc/shm_region.h"

namespace switchyard::ipc {
namespace {

std::vector<std::byte> Bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

std::pair<Channel, Channel> MakePair() {
  auto pair = Channel::CreatePair();
  if (!pair.ok()) ADD_FAILURE() << pair.status().ToString();
  return std::move(pair).value();
}

int OpenFdCount() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory's own fd
}

// Waits until thread `tid` sleeps in the kernel (state S in /proc), i.e. is blocked in a syscall.
// Polls an observable state rather than guessing a duration.
void WaitUntilSleeping(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  while (true) {
    std::ifstream file(path);
    std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // "tid (comm) S ...": the state follows the last ')'.
    const std::size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S') return;
    std::this_thread::yield();
  }
}

// Receives on `channel` in a thread of its own; the result is read after Join.
class BackgroundReceive {
 public:
  explicit BackgroundReceive(Channel& channel)
      : thread_([this, &channel] {
          tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
          result_.emplace(channel.Receive());
        }) {}
  pid_t WaitForTid() {
    while (tid_.load() == 0) std::this_thread::yield();
    return tid_.load();
  }
  StatusOr<Channel::Received> Join() {
    thread_.join();
    return std::move(*result_);
  }

 private:
  std::atomic<pid_t> tid_{0};
  std::optional<StatusOr<Channel::Received>> result_;
  std::thread thread_;
};

TEST(ChannelTest, RoundTripBothWays) {
  auto [a, b] = MakePair();
  ASSERT_TRUE(a.Send(Bytes("hello")).ok());
  ASSERT_TRUE(a.Send(Bytes("second")).ok());
  ASSERT_TRUE(b.Send(Bytes("back")).ok());

  auto first = b.Receive();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->bytes, Bytes("hello"));
  EXPECT_FALSE(first->fd.valid());
  auto second = b.Receive();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->bytes, Bytes("second"));
  auto back = a.Receive();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->bytes, Bytes("back"));
}

TEST(ChannelTest, SpinningReturnsForAMessageAndWithoutOne) {
  auto [a, b] = MakePair();
  b.SpinUntilReadable(std::chrono::milliseconds(1));  // nothing comes: it gives up
  ASSERT_TRUE(a.Send(Bytes("ready")).ok());
  b.SpinUntilReadable(std::chrono::hours(1));  // returns at once: a message is waiting
  auto received = b.Receive();
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->bytes, Bytes("ready"));
  ASSERT_TRUE(a.Send(Bytes("again")).ok());
  auto spun = b.Receive(std::chrono::hours(1));  // spins only until the message is there
  ASSERT_TRUE(spun.ok()) << spun.status().ToString();
  EXPECT_EQ(spun->bytes, Bytes("again"));
  a.Shutdown();
  b.SpinUntilReadable(std::chrono::hours(1));  // returns: the channel is closed
  EXPECT_EQ(b.Receive(std::chrono::hours(1)).status().code(), StatusCode::kUnavailable);
}

TEST(ChannelTest, SocketsAreCloseOnExec) {
  auto [a, b] = MakePair();
  EXPECT_NE(::fcntl(a.fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(b.fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(ChannelTest, PassedMemfdIsTheSameMemory) {
  auto [a, b] = MakePair();
  auto region = ShmRegion::Create("slot", 1 << 16);
  ASSERT_TRUE(region.ok()) << region.status().ToString();
  ASSERT_TRUE(a.Send(Bytes("slot"), region->fd()).ok());

  auto received = b.Receive();
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->bytes, Bytes("slot"));
  ASSERT_TRUE(received->fd.valid());
  EXPECT_NE(received->fd.get(), region->fd());
  EXPECT_NE(::fcntl(received->fd.get(), F_GETFD) & FD_CLOEXEC, 0);

  auto peer = ShmRegion::Map(std::move(received->fd), 1 << 16);
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  std::memcpy(region->data() + 100, "from a", 6);
  EXPECT_EQ(std::memcmp(peer->data() + 100, "from a", 6), 0);
  std::memcpy(peer->data() + 200, "from b", 6);
  EXPECT_EQ(std::memcmp(region->data() + 200, "from b", 6), 0);
}

TEST(ChannelTest, LargestMessageFitsAndOneByteMoreIsRefused) {
  auto [a, b] = MakePair();
  std::vector<std::byte> largest(Channel::kMaxMessageBytes);
  for (std::size_t i = 0; i < largest.size(); ++i) largest[i] = std::byte(i % 251);
  ASSERT_TRUE(a.Send(largest).ok());
  auto received = b.Receive();
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->bytes, largest);

  largest.push_back(std::byte{0});
  EXPECT_EQ(a.Send(largest).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Send({}).code(), StatusCode::kInvalidArgument);
}

TEST(ChannelTest, ShutdownReleasesABlockedReceive) {
  auto [a, b] = MakePair();
  BackgroundReceive receive(b);
  WaitUntilSleeping(receive.WaitForTid());
  b.Shutdown();
  auto result = receive.Join();
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b.Send(Bytes("x")).code(), StatusCode::kUnavailable);
}

TEST(ChannelTest, ShutdownReleasesTheReceiveOfThePeer) {
  auto [a, b] = MakePair();
  BackgroundReceive receive(b);
  WaitUntilSleeping(receive.WaitForTid());
  a.Shutdown();
  EXPECT_EQ(receive.Join().status().code(), StatusCode::kUnavailable);
}

TEST(ChannelTest, PeerCloseGivesUnavailableAfterTheQueuedMessages) {
  auto [a, b] = MakePair();
  {
    Channel closing = std::move(a);
    ASSERT_TRUE(closing.Send(Bytes("last words")).ok());
  }
  auto last = b.Receive();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->bytes, Bytes("last words"));
  auto closed = b.Receive();
  EXPECT_EQ(closed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(closed.status().message().find("closed"), std::string::npos);
  EXPECT_EQ(b.Send(Bytes("anyone?")).code(), StatusCode::kUnavailable);
}

// A peer that ends with messages of ours unread makes the kernel report ECONNRESET ahead of the
// messages it had sent (a worker that exits while a heartbeat waits for it): they still arrive.
TEST(ChannelTest, PeerThatClosedWithUnreadMessagesStillDeliversItsOwn) {
  auto [a, b] = MakePair();
  ASSERT_TRUE(b.Send(Bytes("ping")).ok());
  {
    Channel closing = std::move(a);
    ASSERT_TRUE(closing.Send(Bytes("last words")).ok());
  }
  auto last = b.Receive();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->bytes, Bytes("last words"));
  EXPECT_EQ(b.Receive().status().code(), StatusCode::kUnavailable);
}

std::size_t MessageLength(int sender, int sequence) {
  return 8 + (sequence * 397 + sender * 4099) % (40 << 10);
}

// The peer here is a raw socket, to send what Channel::Send never would.
class RawPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    raw_.Reset(fds[0]);
    channel_.emplace(UniqueFd(fds[1]));
  }

  // Sends `size` bytes with `fds` attached from the raw end.
  bool RawSend(std::size_t size, const std::vector<int>& fds) {
    std::vector<std::byte> payload(size, std::byte{1});
    iovec iov{payload.data(), payload.size()};
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    std::vector<unsigned char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    if (!fds.empty()) {
      header.msg_control = control.data();
      header.msg_controllen = control.size();
      cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    return ::sendmsg(raw_.get(), &header, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
  }

  UniqueFd raw_;
  std::optional<Channel> channel_;
};

TEST_F(RawPeerTest, OversizeDatagramIsAnErrorAndItsFdIsClosed) {
  const int buffer = 4 << 20;
  ::setsockopt(raw_.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  auto region = ShmRegion::Create("slot", 4096);
  ASSERT_TRUE(region.ok());
  const int fds_before = OpenFdCount();
  if (!RawSend(Channel::kMaxMessageBytes + 1, {region->fd()})) {
    GTEST_SKIP() << "cannot send an oversize datagram here: " << std::strerror(errno);
  }
  auto received = channel_->Receive();
  EXPECT_EQ(received.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFdCount(), fds_before);

  ASSERT_TRUE(RawSend(3, {}));
  auto next = channel_->Receive();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->bytes.size(), 3u);
}

TEST_F(RawPeerTest, MessageWithSeveralFdsIsAnErrorAndTheyAreClosed) {
  auto region = ShmRegion::Create("slot", 4096);
  ASSERT_TRUE(region.ok());
  const int fds_before = OpenFdCount();
  for (std::size_t count : {2, 8}) {  // 8: more than Receive has room for
    ASSERT_TRUE(RawSend(5, std::vector<int>(count, region->fd())));
    auto received = channel_->Receive();
    EXPECT_EQ(received.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(OpenFdCount(), fds_before) << count << " fds";
  }
  ASSERT_TRUE(RawSend(3, {region->fd()}));
  auto next = channel_->Receive();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->fd.valid());
}

// Receives `senders` * `messages_each` messages as sent by ConcurrentSendersDoNotInterleave and
// checks each is whole and each sender's arrive in order.
void ReceiveAllInOrder(Channel& channel, int senders, int messages_each) {
  std::vector<int> next_sequence(senders, 0);
  for (int i = 0; i < senders * messages_each; ++i) {
    auto received = channel.Receive();
    ASSERT_TRUE(received.ok()) << received.status().ToString();
    const std::vector<std::byte>& message = received->bytes;
    ASSERT_GE(message.size(), 8u);
    int sender, sequence;
    std::memcpy(&sender, message.data(), 4);
    std::memcpy(&sequence, message.data() + 4, 4);
    ASSERT_GE(sender, 0);
    ASSERT_LT(sender, senders);
    EXPECT_EQ(sequence, next_sequence[sender]++);  // each sender's messages arrive in order
    ASSERT_EQ(message.size(), MessageLength(sender, sequence));
    const auto fill = static_cast<std::byte>(sender * 31 + sequence);
    for (std::size_t k = 8; k < message.size(); ++k) ASSERT_EQ(message[k], fill) << k;
  }
}

TEST(ChannelTest, ConcurrentSendersDoNotInterleave) {
  constexpr int kSenders = 6;
  constexpr int kMessagesEach = 100;
  auto [a, b] = MakePair();

  // Each message: sender id, sequence number, then a body of varying length (up to 40 KiB, so
  // messages span many pages) filled with a byte derived from both.
  std::vector<std::thread> senders;
  for (int sender = 0; sender < kSenders; ++sender) {
    senders.emplace_back([&a = a, sender] {
      for (int sequence = 0; sequence < kMessagesEach; ++sequence) {
        std::vector<std::byte> message(MessageLength(sender, sequence));
        std::memcpy(message.data(), &sender, 4);
        std::memcpy(message.data() + 4, &sequence, 4);
        std::fill(message.begin() + 8, message.end(), std::byte(sender * 31 + sequence));
        ASSERT_TRUE(a.Send(message).ok());
      }
    });
  }

  ReceiveAllInOrder(b, kSenders, kMessagesEach);
  if (HasFatalFailure()) b.Shutdown();  // unblocks the senders
  for (std::thread& thread : senders) thread.join();
}

}  // namespace
}  // namespace switchyard::ipc
