"""linkplane: private connectivity from IoT fleets into their customers' AWS VPCs."""

__version__ = "0.1.0"
