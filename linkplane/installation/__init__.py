"""Installation: the short id that tells this linkplane installation's AWS resources apart.

Several installations (staging, production, each with its own database) may use the same
provider AWS account. Every AWS name, tag and idempotency token linkplane derives carries
the id, and every look-up by tag filters on it, so one installation never adopts, rejects or
deletes another's resources. See docs/cloud-connect.md ("Installation id").

- :mod:`.models` -- the ``installation`` table (one row, written by migration 0007).
- :mod:`.service` -- :func:`~.service.installation_id`, the one reader.
- :mod:`.tags` -- the tag and :func:`~.tags.owner_of`: whose a tagged resource is (pure).
"""
