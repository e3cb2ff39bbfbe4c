#include "support/reflection.h"

#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace calndro::testing {
namespace {

std::string varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

std::string bytes_of(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

}  // namespace

std::string string_field(int number, const std::string& value) {
  return varint((static_cast<uint64_t>(number) << 3) | 2) + varint(value.size()) + value;
}

std::string reflection_exchange(const std::shared_ptr<grpc::Channel>& channel, const std::string& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::internal::RpcMethod method("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                         grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, &context));
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  EXPECT_TRUE(stream->Write(out));
  stream->WritesDone();
  std::string response;
  grpc::ByteBuffer in;
  if (stream->Read(&in)) {
    response = bytes_of(in);
  }
  while (stream->Read(&in)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  return response;
}

}  // namespace calndro::testing
