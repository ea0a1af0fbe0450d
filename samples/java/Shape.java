// SPDX-License-Identifier: MIT
// A Java workload of known shape: per round, Sixty.work does 6 units,
// Thirty.work 3 and Ten.work 1 of the same loop, so they take 60, 30 and
// 10 % of the CPU by construction.  The three are called through one
// interface call site that sees three receiver classes equally often
// (megamorphic), so the JIT compiles each on its own and inlines none of
// them into main.  Runs for the seconds given (default: until killed);
// prints "warm" after WARM rounds (by then the JIT has compiled the three),
// and at the end the rounds done (work per second, for benchmarks).
public final class Shape {
	interface Work {
		long work(long x, int n);
	}

	static final class Sixty implements Work {
		public long work(long x, int n) {
			for (int i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >>> 7;
				x ^= x << 17;
			}
			return x;
		}
	}

	static final class Thirty implements Work {
		public long work(long x, int n) {
			for (int i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >>> 7;
				x ^= x << 17;
			}
			return x;
		}
	}

	static final class Ten implements Work {
		public long work(long x, int n) {
			for (int i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >>> 7;
				x ^= x << 17;
			}
			return x;
		}
	}

	static final int UNIT = 200000;
	static final int WARM = 200;

	public static void main(String[] args) {
		double seconds = args.length > 0 ? Double.parseDouble(args[0]) : Double.POSITIVE_INFINITY;
		Work[] works = { new Sixty(), new Thirty(), new Ten() };
		int[] units = { 6, 3, 1 };
		long end = System.nanoTime() + (long) Math.min(seconds * 1e9, Long.MAX_VALUE / 2);
		long x = 88172645463325252L;
		long round = 0;
		while (System.nanoTime() < end) {
			for (int k = 0; k < works.length; k++)
				x = works[k].work(x, units[k] * UNIT);
			if (++round == WARM)
				System.out.println("warm");
		}
		System.out.println(round + " rounds " + x);
	}
}
