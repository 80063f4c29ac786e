"""icp-migrate: legacy HiChina ICP filings regrouped into one Alibaba Cloud account per entity."""

__version__ = "0.1.0"
