// Package secrets holds the encryption key Flowgate shares with Flowise and
// the cipher that protects stored credentials with it.
//
// Everything here is byte-compatible with Flowise so that a database and an
// encryption.key written by a Flowise server keep working under Flowgate and
// vice versa: the key is resolved from the same places in the same order, and
// credentials are sealed in the same OpenSSL "Salted__" AES-256-CBC format
// that Flowise produces through crypto-js.
package secrets
