"""``python -m training CONFIG --project P``: the entry point for torchrun (DDP), same options as ``xwb train``.

    torchrun --nproc-per-node 2 -m training configs/seg_unet_resnet18.yaml --project demo/baggage
"""
import argparse
import sys

from datasets.errors import XwbError
from training.cli import add_train_args, cmd_train


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m training", description="xwb train (for torchrun)")
    add_train_args(p)
    a = p.parse_args(argv)
    try:
        return cmd_train(a)
    except XwbError as e:
        print(f"xwb train: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
