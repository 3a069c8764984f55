//! Synthetic history for the `dynalert backtest` benchmark (`scripts/bench-backtest.sh`):
//! one OpenMetrics file of one two-hour window, for `promtool tsdb create-blocks-from
//! openmetrics`. Every tenant has one gauge `bench_k<NN>_value{tenant}` per key: a steady
//! value between 10 and 63, and every third day (tenant- and key-dependent) a 20-minute spike
//! to 95.
//!
//! Usage: backtest_history TENANTS KEYS START WINDOW SCRAPE_SECONDS OUT
//! (START: unix seconds, a multiple of 7200; WINDOW: the index of the two-hour window).

use std::io::Write as _;

/// The value of tenant `n`'s key `k` at unix time `t` (seconds from `start`: `rel`).
fn value(n: u64, k: u64, rel: u64, scrape: u64) -> u64 {
    let day = rel / 86_400;
    let minute = (rel % 86_400) / 60;
    let spike_at = (n * 37 + k * 101) % 1_420;
    if (day + n + k).is_multiple_of(3) && (spike_at..spike_at + 20).contains(&minute) {
        return 95;
    }
    10 + (n * 7 + k * 13) % 50 + (rel / scrape + n) % 5
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> u64 {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| {
            eprintln!("usage: backtest_history TENANTS KEYS START WINDOW SCRAPE_SECONDS OUT");
            std::process::exit(2)
        })
    };
    let (tenants, keys, start, window, scrape) = (num(0), num(1), num(2), num(3), num(4));
    let out = args.get(5).expect("OUT");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let from = start + window * 7_200;
    for k in 1..=keys {
        writeln!(w, "# TYPE bench_k{k:02}_value gauge")?;
        for n in 0..tenants {
            let mut t = from;
            while t < from + 7_200 {
                writeln!(
                    w,
                    "bench_k{k:02}_value{{tenant=\"t{n:05}\"}} {} {t}",
                    value(n, k, t - start, scrape)
                )?;
                t += scrape;
            }
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
}
