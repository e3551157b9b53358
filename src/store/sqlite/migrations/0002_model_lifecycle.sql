-- The provider catalog's lifecycle of a model ("ACTIVE", "LEGACY"; '' when unknown), recorded
-- when the model is added so health checks can warn about deprecation without asking the catalog.
ALTER TABLE models ADD COLUMN lifecycle TEXT NOT NULL DEFAULT '';
