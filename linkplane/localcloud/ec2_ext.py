"""Entry point kept for :mod:`linkplane.localcloud.install`: the EC2 extension lives in
:mod:`linkplane.localcloud.ec2`."""

from linkplane.localcloud.ec2 import install

__all__ = ["install"]
