#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora in tests/fuzz/corpus/TARGET/: small real-looking
inputs of each harness's format (see the comment at the top of each
fuzz_TARGET.cpp). The committed seeds came from this script; run it again
after changing a format. The ELF seeds are compiled from seed_sources/ with
gcc and clang, stripped of what they do not need to stay a few KiB each."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data.encode() if isinstance(data, str) else data)


def process_maps():
    write("process_maps", "typical",
          "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1311786                    /usr/bin/cat\n"
          "55d0c0a02000-55d0c0a07000 r-xp 00002000 fe:01 1311786                    /usr/bin/cat\n"
          "55d0c1e8d000-55d0c1eae000 rw-p 00000000 00:00 0                          [heap]\n"
          "7f3a1c228000-7f3a1c3bd000 r-xp 00028000 fe:01 1316001                    /usr/lib/x86_64-linux-gnu/libc.so.6\n"
          "7ffd6d0f2000-7ffd6d113000 rw-p 00000000 00:00 0                          [stack]\n"
          "7ffd6d1d6000-7ffd6d1d8000 r-xp 00000000 00:00 0                          [vdso]\n"
          "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n")
    write("process_maps", "deleted_and_spaces",
          "7f0000000000-7f0000001000 r-xp 00001000 08:02 42 /tmp/a file with spaces (deleted)\n"
          "7f0000001000-7f0000002000 r-xp 00000000 00:05 7 /memfd:jit (deleted)\n"
          "7f0000002000-7f0000003000 rwxp 00000000 00:00 0 \n"
          "not a maps line\n"
          "7f0000003000-7f0000004000 r-xp 00000000 103:0a 99999999999 /x")


def perf_map():
    # Byte 0: where the text is cut between read() and update().
    write("perf_map", "v8_style", b"\x80" +
          b"3ef414a0 120 LazyCompile:~main /app/index.js:1\n"
          b"3ef41600 40 Builtin:ArgumentsAdaptorTrampoline\n"
          b"3ef41640 1a0 Function:*fib /app/fib.js:3\n")
    write("perf_map", "overlapping_and_odd", b"\x30" +
          b"0x7f0000001000 0x100 first one\n"
          b"7f0000001080 10 overrides the middle\r\n"
          b"7f0000000f00 200 covers both\n"
          b"zz 10 bad\n"
          b"ffffffffffffff00 100 wraps around\n"
          b"7f0000002000 0 empty\n"
          b"7f0000003000\t8\ttabs and no newline")
    write("perf_map", "status_lines", b"\x00" +
          b"Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t4242\t17\n")


def kallsyms():
    # Byte 0: the line reader's chunk size (1 + byte % 64).
    write("kallsyms", "typical", b"\x07" +
          b"ffffffff81000000 T _stext\n"
          b"ffffffff81000000 T startup_64\n"
          b"ffffffff81001000 t do_one_initcall\n"
          b"ffffffff81002000 D some_data\n"
          b"ffffffff81003000 W weak_thing\n"
          b"ffffffffc0a01000 t ext4_fill_super\t[ext4]\n"
          b"ffffffffc0a02000 T nft_do_chain\t[nf_tables]\n")
    write("kallsyms", "hidden", b"\x3f" +
          b"0000000000000000 T _stext\n0000000000000000 t foo\t[mod]\n")
    write("kallsyms", "odd_lines", b"\x01" +
          b"ffffffff81000000 T\n"
          b"ffffffff81000100 TT two_letters\n"
          b"ffffffff81000200 t name_with_no_newline\t[]")


def cli_options():
    # argv without argv[0], arguments separated by NUL.
    for name, argv in [
        ("pids_folded", ["-p", "1,2,3", "-f", "5"]),
        ("cluster", ["-fdKp123", "-m", "1000", "-M", "2000"]),
        ("long_forms", ["--pid=42", "--state", "2", "--sample=50", "--dwarf-stack-size", "4096"]),
        ("command", ["-u", "--dwarf", "-o", "out.txt", "2.5", "--", "make", "-j8"]),
        ("help", ["-v", "-h", "-p", "0"]),
    ]:
        write("cli_options", name, "\0".join(argv))


def folded():
    """Byte 0: where the rest is cut into BEFORE and AFTER (0-255 of its length)."""
    before = ("demo-pong;main;read;--;try_to_wake_up;pipe_write;demo-ping 19523\n"
              "demo-ping;clock_nanosleep;--;[hardirq] 200311\n"
              "sleep;[unknown];--;[unseen waker] 7\n")
    after = ("demo-pong;main;read;--;try_to_wake_up;pipe_write;demo-ping 39050\r\n"
             "\n"
             "std::vector<int>::push_back;a b;--;[preempted] 18446744073709551615\n")
    write("folded", "two_runs", bytes([round(255 * len(before) / len(before + after))]) + (before + after).encode())
    write("folded", "not_folded", b"\x80" + b"x;y 1\nTracing blocked time (us) by user + kernel\n")
    write("folded", "odd_bytes", b"\x40" + b"a\xff\xfe;<&>\x01 5\n;; 0\n")


def c_options():
    # struct wt_profiler_opts as of this version (waketrace.h): size_t sz,
    # 6 x u32, 2 x u64, 2 x u32, 2 pointers, 2 x u32 (80 bytes), then 56
    # reserved bytes.
    reserved = bytes(56)
    def opts(sz, flags=0, threads=0, stacks=0, attach=0, state_mask=0, storage=0,
             min_us=0, max_us=0, chains=0, off_cpu=0, log=0, ctx=0, sample=0, dwarf=0,
             tail=b""):
        return struct.pack("<Q6I2Q2I2Q2I", sz, flags, threads, stacks, attach, state_mask,
                           storage, min_us, max_us, chains, off_cpu, log, ctx, sample,
                           dwarf) + tail
    write("c_options", "defaults", opts(136, tail=reserved))
    write("c_options", "everything", opts(136, flags=1, threads=1, stacks=2, attach=1,
                                          state_mask=2, storage=4096, min_us=10,
                                          max_us=1000, chains=64, off_cpu=64, log=1,
                                          ctx=0x1234, sample=50, dwarf=8192, tail=reserved))
    write("c_options", "older_struct", opts(48, threads=2, min_us=5)[:48])
    write("c_options", "newer_struct", opts(168, tail=reserved + b"\1" + bytes(31)))
    write("c_options", "bad_enum", opts(136, stacks=7, tail=reserved))
    write("c_options", "null", b"\0")


def demangle():
    for i, name in enumerate([
        "_ZN10symfixture5inner5twiceEi",
        "_ZNSt6vectorIiSaIiEE9push_backERKi",
        "_ZN4core3fmt5write17h0123456789abcdefE.llvm.4711",
        "_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5f2b1a3c4d6e7f80E",
        "_RNvNtCs1234_10symfixture4rust2v0",
        "_RNCNvNtCsh537bOAIRKx_3lib3foo8closures0B5_",
        "_RINvNtCsh537bOAIRKx_3lib3foo7genericKj3_EB4_",
        "_RNvXs_NtCsh537bOAIRKx_3lib3fooINtB4_5ThinghENtB4_5Speak5speak",
        "main",
    ]):
        write("demangle", f"name{i}", name)


def unwinder():
    # Byte 0: the ip's mapping; 17 registers; then the stack (see fuzz_unwinder.cpp).
    def code(mapping, offset):
        return (0xC0 << 56) | (mapping << 48) | offset

    def stack(offset):
        return (0x5A << 56) | offset

    registers = [0] * 17
    registers[6] = stack(64)        # rbp: a frame pointer into the copy
    registers[16] = 0x1000          # rip: an offset into the mapping
    words = [stack(128), code(0, 0x2000), code(1, 0x3000), 0, code(0, 0x1234)] + [0] * 11
    words += [stack(192), code(2, 0x400), code(3, 0x800)] + [0] * 13
    for mapping in range(4):
        write("unwinder", f"frames_in_mapping{mapping}",
              bytes([mapping]) + struct.pack("<17Q", *registers) +
              struct.pack(f"<{len(words)}Q", *words))
    write("unwinder", "no_stack", b"\x01" + struct.pack("<17Q", *registers))


def elf_symbols():
    sources = os.path.join(HERE, "seed_sources")
    small = ["-nostdlib", "-fno-stack-protector", "-Wl,--build-id", "-Wl,-n",
             "-Wl,-z,noseparate-code", "-Wl,--no-warn-rwx-segments"]
    builds = {
        # gcc's DWARF 5 with an inlined function, a static ET_EXEC.
        "program_gcc_dwarf5": ["gcc", "-O2", "-g", "-static", "tiny_program.c"],
        # clang's DWARF forms differ (addrx, rnglists); compressed sections.
        "program_clang_compressed": ["clang", "-O2", "-g", "-static", "-gz=zlib",
                                     "tiny_program.c"],
        # A C++ ET_DYN with namespaces and a class in its DWARF 4.
        "library_gcc_dwarf4": ["g++", "-O2", "-gdwarf-4", "-shared", "-fPIC",
                               "tiny_library.cpp"],
        # Stripped: .dynsym and .eh_frame only, as most distribution libraries.
        "library_stripped": ["g++", "-O2", "-shared", "-fPIC", "-s", "tiny_library.cpp"],
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, command in builds.items():
            output = os.path.join(scratch, name)
            subprocess.run(command + small + ["-o", output], cwd=sources, check=True)
            subprocess.run(["objcopy", "--remove-section=.comment", output], check=True)
            directory = os.path.join(CORPUS, "elf_symbols")
            os.makedirs(directory, exist_ok=True)
            shutil.copyfile(output, os.path.join(directory, name))


def main():
    for make in (process_maps, perf_map, kallsyms, cli_options, folded, c_options, demangle,
                 unwinder, elf_symbols):
        make()
    return 0


if __name__ == "__main__":
    sys.exit(main())
