"""The embedded cloud's EC2 Transit Gateway behaviour, on top of moto 5.2.5.

Makes the cross-account flow behave as AWS documents it: gateways shared through RAM, VPC
attachments from other accounts that the owner accepts or rejects, route tables with single
associations, routes that blackhole, VPN and peering attachments. Every moto change is listed
in :mod:`linkplane.localcloud.ec2.patches`; ``install`` applies them.
"""

from linkplane.localcloud.ec2.patches import install

__all__ = ["install"]
