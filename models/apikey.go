package models

import "time"

// APIKey is an API key for the prediction and management API. Unlike Flowise, the plaintext key is
// never stored: Fingerprint (its SHA-256) finds the row, KeyPrefix (its first characters) shows it
// in listings and finds rows that have no fingerprint yet, and APISecret, Flowise's
// "hex(scrypt(key, salt)).salt" string, proves a key found by prefix. Neither the fingerprint nor
// the secret is ever sent to clients.
type APIKey struct {
	ID      string `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	KeyName string `gorm:"column:keyName;not null" json:"keyName"`
	Prefix  string `gorm:"column:keyPrefix;type:varchar(16);not null;index" json:"keyPrefix"`
	// Fingerprint is NULL for a key stored before fingerprints, until it first verifies.
	Fingerprint *string   `gorm:"column:keyFingerprint;type:varchar(64);index" json:"-"`
	APISecret   string    `gorm:"column:apiSecret;type:text;not null" json:"-"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

func (APIKey) TableName() string { return "apikey" }
