SELECT MAX(version) AS version, MIN(version) AS first_version
FROM {version}
