-- After the commit (or the rollback): the target's connection lets go of the source file.
DETACH DATABASE {alias}
