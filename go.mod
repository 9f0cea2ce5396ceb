module ampsflume

go 1.26.8
