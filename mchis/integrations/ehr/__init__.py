"""The Ministry's electronic health record warehouse (kho dữ liệu HSSKĐT): FHIR R4 transaction Bundles, daily
(R-INT-02). `fhir` builds and validates resources (profiled after the WHO SMART ANC IG), `adapter` turns
outbox entries into a signed Bundle, `receiver` is the local stand-in for the warehouse."""
