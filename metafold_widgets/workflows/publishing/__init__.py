"""Publishing a project, one job per module.

======================  ========================================================================
``placement``           where a project's files go in a package, and putting them there
``people``              authors, principal investigator, license: read once from the answers
``context``             what gathering facts needs, and what could not be known
``facts``               the package's facts from the record and the answers
``sources``             the package's facts from the live systems (elabFTW, OMERO)
``statement``           the data-availability statement
``availability_files``  the statement and its two companion files in the project and the package
``omero_pixels``        the OMERO dataset's image count and size for the statement
``package_crate``       the package's RO-Crate
``package``             building the package (a staged folder)
``manifest``            the manifest and checksum files
``archive``             tar.gz and zip archives (``archive_writers``: the two formats)
``archive_pass``        one read per file feeding every archive being written
``tar_head``            the tar.gz trailer written last into room kept at the start
``parallel_gzip``       one gzip stream compressed on every core (``parallel_zip``: zip members)
``zip_storage``         which files a zip stores as they are
``verify``              verifying a folder or an archive
``unpacking``           what comes out of an archive, bounded (sizes, ratio, total)
``rocrate``             RO-Crate 1.1 entities and documents
``eln_read``            the ``.eln`` format's names, and reading one
``eln_crate``           the RO-Crate of an ``.eln`` export
``eln_export``          writing a project as an ``.eln``
``eln_import``          a new project from an ``.eln``
======================  ========================================================================
"""
