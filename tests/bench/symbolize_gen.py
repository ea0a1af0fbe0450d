#!/usr/bin/env python3
"""symbolize_gen.py DIR FILES FUNCS: writes a large C++ program for the
symbolizer benchmark: FILES sources of FUNCS functions each, every function
with its own class template instantiations, standard containers and inlined
helpers, so the binary carries a lot of DWARF (types, inline chains, lines)."""
import os
import sys

out, nfiles, nfuncs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
for f in range(nfiles):
    with open(os.path.join(out, f"gen{f}.cc"), "w") as o:
        o.write("#include <map>\n#include <string>\n#include <vector>\n#include <algorithm>\n")
        o.write(f"namespace g{f} {{\n")
        for i in range(nfuncs):
            o.write(f"""
template <typename T, int K> struct Acc{i} {{
	std::vector<T> v;
	inline void add(T x) {{ v.push_back(x * K + {i}); }}
	inline T sum() const {{ T s{{}}; for (const T &x : v) s += x; return s; }}
}};
__attribute__((noinline)) long f{i}(long n)
{{
	Acc{i}<long, {i % 7 + 1}> a;
	std::map<int, std::string> m;
	for (long k = 0; k < n; k++) {{ a.add(k); m[(int)k % 5] += std::to_string(k); }}
	std::sort(a.v.begin(), a.v.end());
	return a.sum() + (long)m.size();
}}
""")
        o.write("}\n")
        o.write(f"long run{f}(long n) {{ long s = 0;\n")
        for i in range(nfuncs):
            o.write(f"\ts += g{f}::f{i}(n);\n")
        o.write("\treturn s; }\n")
with open(os.path.join(out, "main.cc"), "w") as o:
    o.write("#include <cstdio>\n#include <unistd.h>\n")
    for f in range(nfiles):
        o.write(f"long run{f}(long n);\n")
    o.write("int main(int argc, char **argv) { long s = 0;\n")
    for f in range(nfiles):
        o.write(f"\ts += run{f}(argc);\n")
    o.write('\tprintf("%ld\\n", s); fflush(stdout);\n\tchar c; (void)!read(0, &c, 1); return 0; }\n')
