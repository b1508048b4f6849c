"""The always-on daemon: process lifecycle (app), audio capture supervision, turn-taking (listener)."""
