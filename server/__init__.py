"""Bintang Ceria: the phone-first web app of a city's child and teen counseling service."""
