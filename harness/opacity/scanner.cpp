#include "harness/opacity/scanner.hpp"

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace iwf::harness {

namespace {

std::uint32_t prefix32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

Bytes randomBytes(std::size_t n) {
    std::random_device rd;
    Bytes b(n);
    for (auto& x : b) {
        x = static_cast<std::uint8_t>(rd());
    }
    return b;
}

// Streams chunks through the set with an overlap of maxLength()-1 bytes so a needle that
// straddles two chunks is counted exactly once.
class ChunkScanner {
  public:
    ChunkScanner(const NeedleSet& set, ScanReport& rep) : set_(set), rep_(rep) {}
    void feed(ByteView chunk) {
        buf_.insert(buf_.end(), chunk.begin(), chunk.end());
        rep_.bytes_scanned += chunk.size();
        const std::size_t keep = set_.maxLength() > 0 ? set_.maxLength() - 1 : 0;
        if (buf_.size() > keep) {
            const std::size_t starts = buf_.size() - keep;
            set_.scan(buf_, starts, rep_.hits);
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(starts));
        }
    }
    void finish() {
        set_.scan(buf_, buf_.size(), rep_.hits);
        buf_.clear();
    }

  private:
    const NeedleSet& set_;
    ScanReport& rep_;
    Bytes buf_;
};

}  // namespace

bool NeedleSet::add(std::string label, Bytes bytes) {
    if (bytes.size() < 4) {
        return false;
    }
    const std::uint32_t prefix = prefix32(bytes.data());
    by_prefix_.emplace(prefix, needles_.size());
    const std::uint32_t slot = filterSlot(prefix);
    filter_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
    zero_prefix_ = zero_prefix_ || prefix == 0;
    max_len_ = std::max(max_len_, bytes.size());
    needles_.push_back(Needle{std::move(label), std::move(bytes)});
    return true;
}

void NeedleSet::scan(ByteView data, std::size_t starts_end,
                     std::vector<std::uint64_t>& hits) const {
    hits.resize(needles_.size(), 0);
    if (data.size() < 4 || needles_.empty()) {
        return;
    }
    const std::size_t last = std::min(starts_end, data.size() - 3);
    const std::uint8_t* d = data.data();
    for (std::size_t i = 0; i < last;) {
        // Zero runs (untouched pages, sanitizer shadow) are most of a process: eight zero
        // bytes at i mean no needle starts at i..i+4 unless some needle starts with zeros.
        if (!zero_prefix_ && i + 8 <= data.size()) {
            std::uint64_t w;
            std::memcpy(&w, d + i, 8);
            if (w == 0) {
                i += 5;
                continue;
            }
        }
        const std::uint32_t prefix = prefix32(d + i);
        if (mayStartWith(prefix)) {
            auto range = by_prefix_.equal_range(prefix);
            for (auto it = range.first; it != range.second; ++it) {
                const Bytes& n = needles_[it->second].bytes;
                if (data.size() - i >= n.size() && std::memcmp(d + i, n.data(), n.size()) == 0) {
                    ++hits[it->second];
                }
            }
        }
        ++i;
    }
}

std::uint64_t ScanReport::total() const {
    std::uint64_t t = 0;
    for (auto h : hits) {
        t += h;
    }
    return t;
}

std::vector<std::string> ScanReport::found(const NeedleSet& set) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < hits.size() && i < set.size(); ++i) {
        if (hits[i] > 0) {
            out.push_back(set[i].label);
        }
    }
    return out;
}

ScanReport scanBuffer(const NeedleSet& set, ByteView data) {
    ScanReport rep;
    rep.source = "buffer";
    rep.hits.assign(set.size(), 0);
    set.scan(data, data.size(), rep.hits);
    rep.bytes_scanned = data.size();
    return rep;
}

Result<ScanReport> scanFile(const NeedleSet& set, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error{"open_failed"};
    }
    ScanReport rep;
    rep.source = path;
    rep.hits.assign(set.size(), 0);
    ChunkScanner cs(set, rep);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = static_cast<std::size_t>(in.gcount());
        if (n == 0) {
            break;
        }
        cs.feed(ByteView(reinterpret_cast<const std::uint8_t*>(buf.data()), n));
    }
    cs.finish();
    return rep;
}

Result<ScanReport> scanProcessMemory(const NeedleSet& set, int pid,
                                     const std::atomic<bool>* cancel) {
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream maps(base + "/maps");
    if (!maps) {
        return Error{"open_failed", pid};
    }
    const int fd = ::open((base + "/mem").c_str(), O_RDONLY);
    if (fd < 0) {
        return Error{"open_failed", pid};
    }
    ScanReport rep;
    rep.source = "pid " + std::to_string(pid) + " memory";
    rep.hits.assign(set.size(), 0);
    std::vector<std::uint8_t> buf(1 << 20);
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream ls(line);
        std::string range, perms, offset, dev, inode, name;
        ls >> range >> perms >> offset >> dev >> inode;
        std::getline(ls, name);
        if (perms.empty() || perms[0] != 'r') {
            continue;
        }
        if (name.find("[vvar") != std::string::npos ||
            name.find("[vsyscall]") != std::string::npos) {
            continue;
        }
        const auto dash = range.find('-');
        if (dash == std::string::npos) {
            continue;
        }
        const std::uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
        const std::uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
        constexpr std::uint64_t kMaxScannedRegion = std::uint64_t{64} << 30;  // 64 GiB
        if (hi - lo > kMaxScannedRegion) {
            ++rep.regions_skipped;
            continue;
        }
        ++rep.regions;
        ChunkScanner cs(set, rep);  // a needle never straddles two mappings
        bool failed = false;
        for (std::uint64_t a = lo; a < hi;) {
            if (cancel != nullptr && cancel->load()) {
                ::close(fd);
                return Error{"cancelled"};
            }
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), hi - a));
            const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(a));
            if (n <= 0) {
                failed = true;
                break;
            }
            cs.feed(ByteView(buf.data(), static_cast<std::size_t>(n)));
            a += static_cast<std::uint64_t>(n);
        }
        cs.finish();
        if (failed) {
            ++rep.regions_failed;
        }
    }
    ::close(fd);
    return rep;
}

Status scannerSelfTest() {
    // Planted before the fork: the child has it in its heap.
    auto* planted = new std::vector<std::uint8_t>(randomBytes(24));
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0) {
        delete planted;
        return Error{"self_test_pipe"};
    }
    if (::pipe(from_child) != 0) {
        ::close(to_child[0]);
        ::close(to_child[1]);
        delete planted;
        return Error{"self_test_pipe"};
    }
    const pid_t child = ::fork();
    if (child < 0) {
        delete planted;
        return Error{"self_test_fork"};
    }
    if (child == 0) {
        // Child: keep the planted bytes alive until told to go.
        ::close(to_child[1]);
        ::close(from_child[0]);
        volatile std::uint8_t sink = (*planted)[0];
        (void)sink;
        char c = 'r';
        (void)!::write(from_child[1], &c, 1);
        (void)!::read(to_child[0], &c, 1);
        ::_exit(0);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    char c = 0;
    (void)!::read(from_child[0], &c, 1);

    NeedleSet set;
    set.add("planted", *planted);
    set.add("absent", randomBytes(24));  // made after the fork: not in the child
    // Wipe the parent's copy so a scanner bug that read our own memory would not pass.
    std::fill(planted->begin(), planted->end(), 0);
    delete planted;

    auto rep = scanProcessMemory(set, child);
    (void)!::write(to_child[1], "x", 1);
    ::close(to_child[1]);
    ::close(from_child[0]);
    int st = 0;
    ::waitpid(child, &st, 0);
    if (!rep.ok()) {
        return rep.error();
    }
    if (rep->hits[0] == 0) {
        return Error{"self_test_missed"};
    }
    if (rep->hits[1] != 0) {
        return Error{"self_test_false_hit"};
    }
    return Status::success();
}

}  // namespace iwf::harness
