"""`python -m connectors.sandbox`: serve both emulators until Ctrl-C.

For poking at the emulators by hand (curl, Postman, the vendors' SDKs) or running the demo
against fixed ports. Prints the URLs and the credentials to use; saves state on exit when
--state is given.
"""

from __future__ import annotations

import argparse
import threading

from connectors.sandbox.runner import start_sandboxes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__)
    parser.add_argument("--hubspot-port", type=int, default=8011)
    parser.add_argument("--xero-port", type=int, default=8012)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state", help="JSON state file: loaded if present, saved on exit")
    parser.add_argument("--seed", type=int, default=None, help="seed dummy books when the state is empty")
    parser.add_argument("--deals", type=int, default=60)
    parser.add_argument("--no-bad", action="store_true", help="seed without deliberately bad deals")
    parser.add_argument("--no-limits", action="store_true", help="switch vendor rate limits off")
    parser.add_argument("--time-scale", type=float, default=1.0, help="compress limit windows and token lifetimes")
    args = parser.parse_args(argv)

    sandboxes = start_sandboxes(args.state, limits=not args.no_limits, time_scale=args.time_scale,
                                seed=args.seed, deals=args.deals, bad=not args.no_bad, host=args.host,
                                hubspot_port=args.hubspot_port, xero_port=args.xero_port)
    print("ledgerlink sandboxes running (Ctrl-C to stop)")
    for name, value in sandboxes.credentials().items():
        print(f"  {name:20} {value}")
    print(f"  {'hubspot objects':20} {sandboxes.hubspot.summary()['objects']}")
    print(f"  control: GET {sandboxes.hubspot_url}/_sandbox/stats, POST …/_sandbox/faults, …/_sandbox/limits")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandboxes.stop()
        if args.state:
            print(f"state saved to {args.state}")


if __name__ == "__main__":
    main()
