//! Every store key Passport uses, in one place. The store adds its prefix.
