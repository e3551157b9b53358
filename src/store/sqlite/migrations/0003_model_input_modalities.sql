-- The catalog's input modalities of a model ("TEXT,IMAGE"; '' when unknown), recorded when it is
-- added, so the data plane can refuse images for text-only models before calling the provider.
ALTER TABLE models ADD COLUMN input_modalities TEXT NOT NULL DEFAULT '';
