"""Interchange with other tools: COCO, labelme JSON, semantic label maps."""
