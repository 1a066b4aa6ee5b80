// Tests for the commit log format, reader and SegmentWriter (commit_log.h).
#include "storage/commit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace duro::storage {
namespace {

class CommitLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("duro-commit-log-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `payloads` as one segment and returns its path.
  std::filesystem::path writeSegment(const std::vector<std::string>& payloads,
                                     SegmentWriterOptions options = {}, uint64_t generation = 1) {
    auto writer = SegmentWriter::create(dir_, 0, generation, options);
    EXPECT_TRUE(writer.isOk()) << writer.status().toString();
    for (const std::string& p : payloads) {
      std::string framed;
      EXPECT_TRUE(appendFramedRecord(framed, p).isOk());
      EXPECT_TRUE((*writer)->write(framed).isOk());
    }
    EXPECT_TRUE((*writer)->sync().isOk());
    return (*writer)->path();
  }

  static std::vector<std::string> readAll(const std::filesystem::path& path, ReadStats* stats) {
    std::vector<std::string> out;
    Status st = readSegment(
        path,
        [&](std::string_view payload) {
          out.emplace_back(payload);
          return Status::ok();
        },
        stats);
    EXPECT_TRUE(st.isOk()) << st.toString();
    return out;
  }

  static void overwriteByte(const std::filesystem::path& path, uint64_t offset, char value) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(value);
  }

  static void appendBytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::out | std::ios::binary | std::ios::app);
    f << bytes;
  }

  static uint64_t framedSize(const std::string& payload) {
    return kRecordHeaderBytes + payload.size();
  }

  std::filesystem::path dir_;
};

std::vector<std::string> threeRecords() {
  return {std::string(100, 'a'), std::string(200, 'b'), std::string(300, 'c')};
}

TEST_F(CommitLogTest, ManyRecordsRoundTripIncludingEmptyAndOneMebibyte) {
  std::mt19937 rng(42);
  std::vector<std::string> payloads;
  payloads.push_back("");
  payloads.push_back(std::string(1, '\0'));
  payloads.push_back(std::string(1u << 20, 'x'));
  for (int i = 0; i < 2000; ++i) {
    std::string p(rng() % 3000, '\0');
    for (char& c : p) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());  // zeros inside payloads
    payloads.push_back(std::move(p));
    if (i % 500 == 0) payloads.push_back("");
  }
  payloads.push_back(std::string(1u << 20, '\0'));
  uint64_t expectedBytes = 0;
  for (const auto& p : payloads) expectedBytes += framedSize(p);

  std::filesystem::path path = writeSegment(payloads);
  ReadStats stats;
  std::vector<std::string> read = readAll(path, &stats);
  EXPECT_EQ(read, payloads);
  EXPECT_EQ(stats.records, payloads.size());
  EXPECT_EQ(stats.bytesConsumed, expectedBytes);
  EXPECT_FALSE(stats.tornTail) << stats.tailReason;
  // Zero-ahead leaves zeros past the last record; they are the clean end of the log.
  EXPECT_GT(stats.fileBytes, stats.bytesConsumed);
  EXPECT_EQ(stats.fileBytes, std::filesystem::file_size(path));
}

TEST_F(CommitLogTest, WithoutZeroAheadTheFileEndsAtTheLastRecord) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads, SegmentWriterOptions{.zeroAheadBytes = 0});
  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats), payloads);
  EXPECT_FALSE(stats.tornTail);
  EXPECT_EQ(stats.fileBytes, stats.bytesConsumed);
  EXPECT_EQ(std::filesystem::file_size(path), 624u);
}

TEST_F(CommitLogTest, FramingIsLengthThenCrcThenPayload) {
  std::string framed;
  ASSERT_TRUE(appendFramedRecord(framed, "abc").isOk());
  ASSERT_EQ(framed.size(), 11u);
  EXPECT_EQ(framed.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  EXPECT_EQ(framed.substr(8), "abc");
  // The crc covers the length too, so an empty record never looks like zero-filled space.
  std::string empty;
  ASSERT_TRUE(appendFramedRecord(empty, "").isOk());
  ASSERT_EQ(empty.size(), kRecordHeaderBytes);
  EXPECT_NE(empty, std::string(kRecordHeaderBytes, '\0'));
}

TEST_F(CommitLogTest, OversizedPayloadIsRejected) {
  std::string out = "keep";
  Status st = appendFramedRecord(out, std::string(kMaxRecordPayload + 1, 'x'));
  EXPECT_EQ(st.code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(out, "keep");
}

TEST_F(CommitLogTest, TruncatedLastRecordIsATornTail) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads, SegmentWriterOptions{.zeroAheadBytes = 0});
  const uint64_t firstTwo = framedSize(payloads[0]) + framedSize(payloads[1]);
  std::filesystem::resize_file(path, firstTwo + kRecordHeaderBytes + 150);

  ReadStats stats;
  std::vector<std::string> read = readAll(path, &stats);
  EXPECT_EQ(read, std::vector<std::string>(payloads.begin(), payloads.begin() + 2));
  EXPECT_TRUE(stats.tornTail);
  EXPECT_NE(stats.tailReason.find("past the end"), std::string::npos) << stats.tailReason;
  EXPECT_EQ(stats.bytesConsumed, firstTwo);
}

TEST_F(CommitLogTest, TruncatedHeaderIsATornTail) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads, SegmentWriterOptions{.zeroAheadBytes = 0});
  const uint64_t firstTwo = framedSize(payloads[0]) + framedSize(payloads[1]);
  std::filesystem::resize_file(path, firstTwo + 3);

  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats).size(), 2u);
  EXPECT_TRUE(stats.tornTail);
  EXPECT_EQ(stats.bytesConsumed, firstTwo);
}

TEST_F(CommitLogTest, CorruptMiddleRecordStopsThere) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads);
  const uint64_t first = framedSize(payloads[0]);
  overwriteByte(path, first + kRecordHeaderBytes + 50, 'Z');

  ReadStats stats;
  std::vector<std::string> read = readAll(path, &stats);
  EXPECT_EQ(read, std::vector<std::string>{payloads[0]});
  EXPECT_TRUE(stats.tornTail);
  EXPECT_NE(stats.tailReason.find("crc mismatch"), std::string::npos) << stats.tailReason;
  EXPECT_EQ(stats.bytesConsumed, first);
}

TEST_F(CommitLogTest, CorruptLengthStopsThere) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads);
  const uint64_t first = framedSize(payloads[0]);
  overwriteByte(path, first + 3, '\x7f');  // length now far above kMaxRecordPayload

  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats).size(), 1u);
  EXPECT_TRUE(stats.tornTail);
  EXPECT_NE(stats.tailReason.find("above the maximum"), std::string::npos) << stats.tailReason;
}

TEST_F(CommitLogTest, ZeroFilledTailIsTheCleanEnd) {
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads, SegmentWriterOptions{.zeroAheadBytes = 0});
  appendBytes(path, std::string(8192 + 5, '\0'));

  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats), payloads);
  EXPECT_FALSE(stats.tornTail) << stats.tailReason;
  EXPECT_EQ(stats.bytesConsumed, 624u);
  EXPECT_EQ(stats.fileBytes, 624u + 8192 + 5);
}

TEST_F(CommitLogTest, ZeroedPayloadOfTheLastRecordIsATornTail) {
  // A crash can persist a record's header but not its payload's page.
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads);
  const uint64_t firstTwo = framedSize(payloads[0]) + framedSize(payloads[1]);
  for (uint64_t i = 0; i < payloads[2].size(); ++i) {
    overwriteByte(path, firstTwo + kRecordHeaderBytes + i, '\0');
  }
  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats).size(), 2u);
  EXPECT_TRUE(stats.tornTail);
}

TEST_F(CommitLogTest, NonZeroBytesAfterAZeroHeaderAreATornTail) {
  // A crash can persist a later page of an unacknowledged group but not the page with its header.
  std::vector<std::string> payloads = threeRecords();
  std::filesystem::path path = writeSegment(payloads, SegmentWriterOptions{.zeroAheadBytes = 0});
  appendBytes(path, std::string(5000, '\0') + "garbage");

  ReadStats stats;
  EXPECT_EQ(readAll(path, &stats), payloads);
  EXPECT_TRUE(stats.tornTail);
  EXPECT_NE(stats.tailReason.find("non-zero"), std::string::npos) << stats.tailReason;
}

TEST_F(CommitLogTest, CallbackErrorStopsTheReadAndIsReturned) {
  std::filesystem::path path = writeSegment(threeRecords());
  int calls = 0;
  ReadStats stats;
  Status st = readSegment(
      path,
      [&](std::string_view) { return ++calls == 2 ? Status::internal("stop here") : Status::ok(); },
      &stats);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(st.message(), "stop here");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(stats.records, 1u);
  EXPECT_EQ(stats.bytesConsumed, 108u);
}

TEST_F(CommitLogTest, MissingFileIsAStorageError) {
  Status st = readSegment(
      dir_ / "nope.log", [](std::string_view) { return Status::ok(); }, nullptr);
  EXPECT_EQ(st.code(), StatusCode::kStorage);
  EXPECT_NE(st.message().find("nope.log"), std::string::npos) << st.message();
}

TEST_F(CommitLogTest, SegmentFileNamesRoundTrip) {
  EXPECT_EQ(segmentFileName(3, 42), "shard-3-00000000000000000042.log");
  uint32_t shard = 0;
  uint64_t generation = 0;
  ASSERT_TRUE(parseSegmentFileName(segmentFileName(4294967295u, UINT64_MAX), &shard, &generation));
  EXPECT_EQ(shard, 4294967295u);
  EXPECT_EQ(generation, UINT64_MAX);
  for (std::string_view bad :
       {"shard-3-42.log", "shard--00000000000000000042.log", "shard-03-00000000000000000042.log",
        "shard-3-00000000000000000042.log.tmp", "shard-x-00000000000000000042.log",
        "shard-4294967296-00000000000000000042.log", "shard-3-99999999999999999999.log",
        "other-3-00000000000000000042.log"}) {
    EXPECT_FALSE(parseSegmentFileName(bad, &shard, &generation)) << bad;
  }
}

TEST_F(CommitLogTest, ListSegmentsSortsByGenerationThenShardAndSkipsOtherFiles) {
  for (auto [shard, generation] : std::vector<std::pair<uint32_t, uint64_t>>{
           {1, 10}, {0, 2}, {10, 1}, {0, 10}, {2, 1}, {1, 9}}) {
    std::ofstream(dir_ / segmentFileName(shard, generation));
  }
  std::ofstream(dir_ / "shard-1-12.log");
  std::ofstream(dir_ / "notes.txt");
  auto segments = listSegments(dir_);
  ASSERT_TRUE(segments.isOk()) << segments.status().toString();
  std::vector<std::pair<uint32_t, uint64_t>> got;
  for (const SegmentFile& f : *segments) {
    got.emplace_back(f.shard, f.generation);
    EXPECT_EQ(f.path, dir_ / segmentFileName(f.shard, f.generation));
  }
  EXPECT_EQ(got, (std::vector<std::pair<uint32_t, uint64_t>>{
                     {2, 1}, {10, 1}, {0, 2}, {1, 9}, {0, 10}, {1, 10}}));
}

TEST_F(CommitLogTest, ListSegmentsOfAMissingDirectoryIsEmpty) {
  auto segments = listSegments(dir_ / "missing");
  ASSERT_TRUE(segments.isOk());
  EXPECT_TRUE(segments->empty());
}

TEST_F(CommitLogTest, SegmentWriterRefusesAnExistingFile) {
  auto first = SegmentWriter::create(dir_, 7, 5);
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ((*first)->path(), dir_ / "shard-7-00000000000000000005.log");
  EXPECT_EQ((*first)->shard(), 7u);
  EXPECT_EQ((*first)->generation(), 5u);
  EXPECT_EQ((*first)->size(), 0u);
  ASSERT_TRUE((*first)->write("hello").isOk());
  EXPECT_EQ((*first)->size(), 5u);

  auto second = SegmentWriter::create(dir_, 7, 5);
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), StatusCode::kStorage);
  EXPECT_NE(second.status().message().find("File exists"), std::string::npos)
      << second.status().message();
}

TEST_F(CommitLogTest, SegmentWriterInAMissingDirectoryFails) {
  auto writer = SegmentWriter::create(dir_ / "missing", 0, 1);
  ASSERT_FALSE(writer.isOk());
  EXPECT_EQ(writer.status().code(), StatusCode::kStorage);
}

}  // namespace
}  // namespace duro::storage
