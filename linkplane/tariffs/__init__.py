"""The tariff catalogue, organisation tariffs, inclusive volumes and rate zone selections."""
