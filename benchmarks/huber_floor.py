"""Huber's gradient + Hessian against the memory floor of its kernel shape:

    python -m benchmarks.huber_floor

1e7 elements into existing arrays (the `huber_loss+hess` and `mse_loss+hess` workloads of
benchmarks.workloads with out=True), timed interleaved by benchmarks.timer.measure: cyloss's
huber_loss and mse_loss (the same two reads and two streamed writes with almost no
arithmetic: the fastest kernel of this shape) against sklearn's HuberLoss.gradient_hessian
(n_threads = 2)."""
from benchmarks import workloads as W
from benchmarks.timer import measure


def main():
    threads = 2
    for dt in ("f32", "f64"):
        cs = {}
        for kind in ("huber_loss", "mse_loss"):
            for c in W.SETUPS[kind + "+hess"](W.Env(threads, seed=0, peers=("sklearn",)), (10**7,), dt, out=True):
                if c.name == f"cyloss {threads}t" or (kind == "huber_loss" and c.family in ("sklearn", "copy")):
                    cs[f"{kind} {c.name}"] = c
        named = [c.__class__(**{**c.__dict__, "name": name}) for name, c in cs.items()]
        t = {name: tm.best * 1e3 for name, tm in measure(named, budget=6.0).items()}
        huber, mse, sk = t[f"huber_loss cyloss {threads}t"], t[f"mse_loss cyloss {threads}t"], t[f"huber_loss sklearn {threads}t"]
        print(f"{dt}: " + " ".join(f"{k} {v:.2f} ms" for k, v in t.items())
              + f" | sklearn / cyloss huber {sk / huber:.2f}x, sklearn / cyloss mse (floor) {sk / mse:.2f}x")
    W.cyloss.set_num_threads(0)


if __name__ == "__main__":
    main()
