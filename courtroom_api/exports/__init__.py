"""Transcript exports: JSON, WebVTT, SRT and the court record (庭审笔录) as DOCX and PDF."""
