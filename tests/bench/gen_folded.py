#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate a deterministic folded (collapsed) profile for benchmarks.

    gen_folded.py [-n STACKS] [--seed S] [--total SAMPLES] [-o FILE]

Writes N unique stacks, one per line, of depth 10 to 60.  Frame names come
from a vocabulary of a few thousand realistic C and C++ function names
(namespaces, classes, templates such as std::vector<...>, lambdas); stacks
follow a random call tree so they share prefixes as real profiles do; about a
fifth end in kernel frames (`_[k]`) and a few contain inlined (`_[i]`) or JIT
(`_[j]`) frames.  Counts sum to --total when given (else random 1..1000).
The same arguments always give the same bytes.
"""
import argparse
import random
import sys

NAMESPACES = ["app", "net", "io", "db", "http", "json", "core", "util", "render",
              "sched", "cache", "proto", "rpc", "fs", "crypto", "gfx", "audio",
              "ml", "tensor", "storage"]
CLASSES = ["Connection", "Parser", "Buffer", "Request", "Response", "Session",
           "Worker", "Pool", "Allocator", "Scheduler", "Handler", "Encoder",
           "Decoder", "Table", "Index", "Cursor", "Stream", "Channel", "Queue",
           "Node", "Tree", "Graph", "Matrix", "Shader", "Texture", "Socket",
           "Reader", "Writer", "Context", "Transaction", "Logger", "Timer"]
VERBS = ["read", "write", "parse", "encode", "decode", "flush", "process",
         "handle", "dispatch", "resolve", "lookup", "insert", "erase", "update",
         "compute", "render", "schedule", "run", "poll", "accept", "connect",
         "serialize", "deserialize", "validate", "compress", "hash", "sort",
         "merge", "split", "visit", "apply", "reserve", "grow", "emplace"]
NOUNS = ["Header", "Body", "Chunk", "Frame", "Block", "Page", "Row", "Column",
         "Key", "Value", "Entry", "Batch", "Packet", "Message", "Record",
         "Token", "Segment", "Range", "Slice", "Event", "Task", "Job"]
TYPES = ["int", "char", "unsigned long", "std::string", "double", "float",
         "app::Key", "net::Packet", "std::pair<int, int>", "uint8_t",
         "std::map<std::string, std::vector<int> >"]
TEMPLATES = ["std::vector<{0}, std::allocator<{0}> >::{1}",
             "std::unordered_map<{0}, {2}, std::hash<{0}>, std::equal_to<{0}> >::{1}",
             "std::__detail::_Hashtable<{0}, std::pair<{0} const, {2}> >::{1}",
             "std::basic_string<char, std::char_traits<char>, std::allocator<char> >::{1}",
             "std::_Function_handler<void ({0}), {3}::{{lambda({0})#1}}>::_M_invoke",
             "boost::asio::detail::executor_op<{3}::operator()<{0}>, std::allocator<void> >::do_complete",
             "std::__introsort_loop<__gnu_cxx::__normal_iterator<{0}*, std::vector<{0}> > >"]
C_FUNCS = ["main", "__libc_start_main", "__libc_start_call_main", "_start",
           "start_thread", "clone3", "malloc", "free", "memcpy", "memmove",
           "__memset_avx2_unaligned_erms", "pthread_mutex_lock",
           "pthread_cond_wait", "epoll_wait", "read", "write", "__GI___poll",
           "_int_malloc", "_int_free", "sqlite3VdbeExec", "deflate_slow",
           "inflate_fast", "ZSTD_compressBlock_lazy2", "SHA256_Update"]
KERNEL = ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_read",
          "ksys_read", "vfs_read", "new_sync_read", "ext4_file_read_iter",
          "filemap_read", "copy_page_to_iter", "__x64_sys_write", "ksys_write",
          "vfs_write", "ext4_buffered_write_iter", "generic_perform_write",
          "__x64_sys_epoll_wait", "do_epoll_wait", "ep_poll",
          "schedule_hrtimeout_range", "schedule", "__schedule",
          "asm_exc_page_fault", "exc_page_fault", "do_user_addr_fault",
          "handle_mm_fault", "__handle_mm_fault", "do_anonymous_page",
          "clear_page_erms", "tcp_sendmsg", "tcp_sendmsg_locked",
          "tcp_push", "__tcp_transmit_skb", "ip_queue_xmit", "finish_task_switch"]


def vocabulary(rng, size):
    """Returns `size` distinct function names, mostly C++ with some templates."""
    names = list(C_FUNCS)
    seen = set(names)
    while len(names) < size:
        r = rng.random()
        ns = rng.choice(NAMESPACES)
        cls = rng.choice(CLASSES) + rng.choice(["", "Impl", "Base", "Manager", "V2"])
        meth = rng.choice(VERBS) + rng.choice(NOUNS)
        if r < 0.2:
            name = rng.choice(TEMPLATES).format(rng.choice(TYPES), meth,
                                                rng.choice(TYPES), ns + "::" + cls)
        elif r < 0.25:
            name = "%s_%s_%d" % (rng.choice(VERBS), rng.choice(NOUNS).lower(),
                                 rng.randrange(100))
        else:
            sub = rng.choice(NAMESPACES)
            name = "%s::%s::%s::%s(%s)" % (ns, sub, cls, meth,
                                           rng.choice(["", "int", "const char*",
                                                       "std::string const&"]))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def call_tree(rng, names, fanout):
    """Each function gets a few likely callees, so stacks share prefixes."""
    return {n: [rng.choice(names) for _ in range(fanout)] for n in names}


def one_stack(rng, names, callees):
    depth = rng.randint(10, 60)
    roots = [["_start", "__libc_start_main", "main"], ["clone3", "start_thread"]]
    stack = list(rng.choice(roots))
    kernel_tail = rng.random() < 0.2
    user_depth = depth - (rng.randint(3, 8) if kernel_tail else 0)
    prev = stack[-1]
    while len(stack) < user_depth:
        prev = rng.choice(callees[prev]) if rng.random() < 0.9 else rng.choice(names)
        r = rng.random()
        suffix = "_[i]" if r < 0.02 else "_[j]" if r < 0.03 else ""
        stack.append(prev + suffix)
    if kernel_tail:
        k = rng.randrange(len(KERNEL) - 8)
        stack.extend(s + "_[k]" for s in KERNEL[k:k + depth - len(stack)])
    return ";".join(stack[:depth])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--stacks", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=4000)
    ap.add_argument("--total", type=int, default=0,
                    help="make counts sum to this many samples (>= stacks)")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    names = vocabulary(rng, a.vocab)
    callees = call_tree(rng, names, 6)
    seen = set()
    lines = []
    while len(lines) < a.stacks:
        s = one_stack(rng, names, callees)
        if s.rstrip(";") and s not in seen:
            seen.add(s)
            lines.append(s)
    if a.total:
        if a.total < a.stacks:
            sys.exit("gen_folded.py: --total must be at least --stacks")
        counts = [1] * a.stacks
        for _ in range(a.total - a.stacks):
            counts[int(rng.paretovariate(1.2) * 7) % a.stacks] += 1
    else:
        counts = [rng.randint(1, 1000) for _ in lines]
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    with out:
        for s, c in zip(lines, counts):
            out.write("%s %d\n" % (s, c))


if __name__ == "__main__":
    main()
