"""Many rooms, one home: boxes that find each other on the LAN and agree which one answers."""
