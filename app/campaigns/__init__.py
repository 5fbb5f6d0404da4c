"""Community crowdfunding with profit sharing: campaigns, investing, refunds, payouts."""
