"""The network edge, free of Django: which URLs a server-side request may reach
(`url_policy`), fetching images under those rules (`fetch`), and the signed webhook POST
(`webhook_post`)."""
