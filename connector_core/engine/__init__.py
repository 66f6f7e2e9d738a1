"""The engine floor: everything that turns a connector spec into HTTP requests and records."""
