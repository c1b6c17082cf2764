// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace waketrace::format_internal {
namespace {

// zlib's window bits, plus 16: write a gzip header and trailer rather
// than zlib's own.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemoryLevel = 8;  // zlib's default

class Deflater {
public:
    Deflater() {
        if (deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemoryLevel,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            throw std::bad_alloc();
    }
    ~Deflater() { deflateEnd(&stream_); }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    z_stream* get() { return &stream_; }

private:
    z_stream stream_{};
};

}  // namespace

std::string gzip(std::string_view bytes) {
    Deflater deflater;
    z_stream& stream = *deflater.get();
    std::string out;
    char chunk[1 << 16];
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        // avail_in is 32 bits: larger inputs go in in pieces. zlib's API
        // is not const-correct; it only reads next_in.
        if (stream.avail_in == 0 && !bytes.empty()) {
            const size_t piece = std::min<size_t>(bytes.size(), UINT32_MAX);
            stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
            stream.avail_in = uInt(piece);
            bytes.remove_prefix(piece);
        }
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        status = deflate(&stream, bytes.empty() ? Z_FINISH : Z_NO_FLUSH);
        if (status == Z_STREAM_ERROR)
            throw std::bad_alloc();  // cannot happen with a stream set up as above
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    return out;
}

}  // namespace waketrace::format_internal
