"""The simulated network's decisions: may this device attach to this network, and how much
data or how many SMS may it use now (services, quotas, traffic limits, blocklists)."""
