"""Personal data in what people type: phone numbers in one form, and masking of free text that leaves a case.

A core package (like settings or audit): it never imports a domain, so logging and every domain may use it."""
