# contrib/demo/batch.sh - the demo's story (sourced by demo.sh after lib.sh):
# four centres of Eure-et-Loir send the files of 27 stages held in late
# October and November 2026, delivered in two rounds.
#
# Delivery 1, Monday 16 November 2026 at 10:00: most stages, both files,
# the attestations before the sheet; and what goes wrong in real life: a
# file altered after signing, a file dropped in another centre's inbox, a
# file signed with a certificate from outside the centres' CA, a centre
# whose approval has ended, a stage on a public holiday, a facilitator no
# longer authorised, a late arrival, a missed session, an identity that
# does not match the registry, a group too small, a lunch break too short,
# a licence the registry does not know yet, a stage sent 23 days late.
#
# Delivery 2, Wednesday 18 November at 09:30: the sign-in sheet that
# completes a pending stage, the corrected file, the misplaced file in the
# right inbox, a file sent twice; then a registry import that brings the
# unknown licence.  One stage's sheet never comes: it stays pending.
#
# Filler trainees (licences 9928xxxxxxxx) make realistic group sizes; they
# are written to $REG/licences-batch.csv and $REG/events-batch.csv.

# --- filler trainees -------------------------------------------------------------

FILLER_SURNAMES=(GARNIER CHEVALIER LEGRAND GAUTHIER PERRIN ROBIN CLÉMENT MORIN NICOLAS HENRY
	ROUSSEL MATHIEU MASSON MARCHAND DUVAL DENIS DUMONT LEMAIRE NOËL MEYER DUFOUR MEUNIER BRUN
	BLANCHARD GIRAUD JOLY RIVIÈRE BRUNET GAILLARD BARBIER ARNAUD GÉRARD ROCHE RENARD SCHMITT
	LEROUX COLIN VIDAL CARON PICARD FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER
	BOURGEOIS BENOÎT LECLERC ROLLAND GUILLAUME LECOMTE DUPUY HUBERT BERGER CARPENTIER MOULIN
	DESCHAMPS HUET VASSEUR BOUCHER FLEURY ROYER KLEIN JACQUET POIRIER MARTY GUYOT CARRÉ
	"LE GALL" "DA SILVA" "N'GUESSAN")
FILLER_GIVEN=(Camille Léa Manon Emma Inès Jade Louise Hugo Nathan Louis Gabriel Arthur Jules
	Raphaël Adam Paul Sarah Nina Yasmine Karim Mehdi Sophie Nathalie Isabelle Philippe Éric
	Christophe Sylvie "Marie-Hélène" "Jean Baptiste")
FILLER_NEXT=0

# filler_make N: N filler licences, with their grant and, for most, a retrait.
filler_make() {
	local n=$1 i lic surname given birth issued lost
	echo 'licence,surname,given_names,birth_date,issued,probation_end,status,status_date' > "$REG/licences-batch.csv"
	echo 'licence,effective_date,kind,points,ref' > "$REG/events-batch.csv"
	for ((i = 1; i <= n; i++)); do
		lic=$(printf '9928%08d' "$i")
		surname=${FILLER_SURNAMES[$((i * 7 % ${#FILLER_SURNAMES[@]}))]}
		given=${FILLER_GIVEN[$((i * 11 % ${#FILLER_GIVEN[@]}))]}
		birth=$(printf '19%02d-%02d-%02d' $((55 + i % 45)) $((1 + i % 12)) $((1 + i * 3 % 28)))
		issued=$(printf '20%02d-%02d-01' $((i % 15 + 5)) $((1 + i % 12)))
		PERSON[$lic]="$surname|$given|$birth"
		echo "$lic,\"$surname\",\"$given\",$birth,$issued,,valid," >> "$REG/licences-batch.csv"
		echo "$lic,$issued,grant,12,DEMO-G-$lic" >> "$REG/events-batch.csv"
		# One in nine lost no point (no_credit, no_points_lost); the others 1 to 6.
		lost=$((i * 5 % 9))
		[ "$lost" -gt 6 ] && lost=$((lost - 3))
		[ "$lost" -gt 0 ] &&
			printf '%s,2026-%02d-15,retrait,-%d,DEMO-R-%s\n' "$lic" $((1 + i % 9)) "$lost" "$lic" >> "$REG/events-batch.csv"
	done
}

filler_lic() { printf '9928%08d' "$1"; }

# fill K: the next K filler trainees on the current stage.
fill() {
	local k
	for ((k = 0; k < $1; k++)); do
		FILLER_NEXT=$((FILLER_NEXT + 1))
		t "$(filler_lic $FILLER_NEXT)"
	done
}

# tamper FILE: a name changed after signing (well-formed, signature broken).
tamper() {
	sed -i '0,/given-names="[^"]*"/s//given-names="Jean-Claude"/' "$OUT/$1"
}

# --- the stages --------------------------------------------------------------------

batch_build() {
	filler_make 260
	local C10=R2402800010 C20=R2402800020 C30=R2502800030 C40=R2302800040
	VENUE[$C10]="Salle Jean Moulin, 12 rue des Lices, 28000 Chartres"
	VENUE[$C20]="Maison des associations, 4 rue de Châteaudun, 28100 Dreux"
	VENUE[$C30]="Espace Daniel Balavoine, 28400 Nogent-le-Rotrou"
	VENUE[$C40]="Salle polyvalente, 28310 Janville"

	# Centre Route Sûre, Chartres (RSA-2048).
	stage $C10 CH-2026-1102 2026-11-02 2026-11-03
	t 041274300001 2 '    <letter-48n received="2026-09-30"/>
'
	t 250776300002; t 080273300003; t 250590300004; t 080379300006
	fill 7
	stage_files 1 1
	queue 2 att-CH-2026-1102.xml			# sent twice: duplicate

	stage $C10 CH-2026-1103 2026-11-03 2026-11-04
	fill 13
	stage_files 1 1

	stage $C10 CH-2026-1104 2026-11-04 2026-11-05
	t 121192300007; t 180888300008; t 090874300009; t 200373300010; t 030886300011
	fill 8
	stage_files 1 1

	# Altered after signing; the centre sends the right file two days later.
	stage $C10 CH-2026-1106 2026-11-06 2026-11-07
	fill 10
	stage_files - 1
	cp "$OUT/att-CH-2026-1106.xml" "$OUT/att-CH-2026-1106-v2.xml"
	FILE_DIR[att-CH-2026-1106-v2.xml]=$C10
	tamper att-CH-2026-1106.xml
	queue 1 att-CH-2026-1106.xml
	queue 2 att-CH-2026-1106-v2.xml

	# A late arrival, a missed session, and a trainee of CH-2026-1102 again.
	stage $C10 CH-2026-1109 2026-11-09 2026-11-10
	ARRIVALS="08:20 12:50 08:41 12:50" fill 1
	ARRIVALS="08:20 12:50 08:20 -" fill 1
	t "$(filler_lic 1)"
	fill 12
	stage_files 1 1

	# Armistice day.
	stage $C10 CH-2026-1110 2026-11-10 2026-11-11
	fill 9
	stage_files 1 1

	# The documents give a birth date of 12 February, the registry 21.
	stage $C10 CH-2026-1112 2026-11-12 2026-11-13
	AS="MICHEL|Jean-Pierre|1976-02-12" t 170296300012
	t 161176300013; t 010870300014
	fill 8
	stage_files 1 1

	# Attestations now, the sign-in sheet on Wednesday.
	stage $C10 CH-2026-1113 2026-11-13 2026-11-14
	t 240585300015; t 260692300016; t 040672300017; t 270682300018
	fill 8
	stage_files 1 2

	# Sent 23 days after the stage (late_transmission: decided all the same).
	stage $C10 CH-2026-1023 2026-10-23 2026-10-24
	fill 10
	stage_files 1 1

	# Stage Plus Dreux (EC P-256).
	stage $C20 DR-2026-1102 2026-11-02 2026-11-03
	t 091081300019; t 190797300020; t 160596300021; t 151279300022
	fill 8
	stage_files 1 1

	stage $C20 DR-2026-1104 2026-11-04 2026-11-05
	fill 12
	stage_files 1 1

	# Five participants: the group is too small.
	stage $C20 DR-2026-1105 2026-11-05 2026-11-06
	fill 5
	stage_files 1 1

	stage $C20 DR-2026-1106 2026-11-06 2026-11-07
	fill 12
	stage_files 1 1

	# Lunch from 12:00 to 12:30.
	S_SESSIONS="08:30 12:00 12:30 16:30 08:30 12:00 12:30 16:30"
	S_ARRIVALS="08:20 12:25 08:20 12:25"
	stage $C20 DR-2026-1109 2026-11-09 2026-11-10
	fill 9
	stage_files 1 1

	# A licence the registry does not know yet (imported on Wednesday).
	stage $C20 DR-2026-1112 2026-11-12 2026-11-13
	AS="KOWALCZYK|Adam|1990-05-05" t 991205300777
	t 130286300023; t 040784300024; t 200486300025
	fill 8
	stage_files 1 1

	# The attestations dropped in the Chartres inbox, then in the right one.
	stage $C20 DR-2026-1113 2026-11-13 2026-11-14
	t 280581300026; t 270177300027; t 280683300028
	fill 8
	stage_files - 1
	queue 1 att-DR-2026-1113.xml $C10
	queue 2 att-DR-2026-1113.xml $C20

	# Sécurité Routière 28, Nogent-le-Rotrou (RSA-2048, its 2026 certificate).
	stage $C30 NR-2026-1102 2026-11-02 2026-11-03
	fill 11
	stage_files 1 1

	stage $C30 NR-2026-1103 2026-11-03 2026-11-04
	t 280996300029; t 280787300030; t 130981300031; t 250997300032
	fill 8
	stage_files 1 1

	stage $C30 NR-2026-1104 2026-11-04 2026-11-05
	t 060898300046; t 170498300047; t 120576300048
	fill 9
	stage_files 1 1

	# A mandatory stage whose letter 48N came after it.
	stage $C30 NR-2026-1105 2026-11-05 2026-11-06
	t 180999300033; t 010590300034; t 130281300035; t 280290300036
	t 231091300037 2 '    <letter-48n received="2026-11-20"/>
'
	fill 8
	stage_files 1 1

	# Signed with a certificate from another CA.
	SIGN_KEY=other
	stage $C30 NR-2026-1106 2026-11-06 2026-11-07
	fill 6
	stage_files 1 -

	# A judicial stage (case 3: never points).
	stage $C30 NR-2026-1109 2026-11-09 2026-11-10
	t 090774300038 3 '    <court-order ref="PARQUET-28-2026-0412" date="2026-08-02"/>
'
	t 070998300039; t 261090300040; t 150994300041
	fill 8
	stage_files 1 1

	# The psychologist's authorisation ended on 30 June 2026.
	S_PSY="PSY-28-2018-002|KOWALSKI|Piotr"
	stage $C30 NR-2026-1112 2026-11-12 2026-11-13
	fill 10
	stage_files 1 1

	# The sign-in sheet never comes.
	stage $C30 NR-2026-1113 2026-11-13 2026-11-14
	t 170181300042; t 030194300043; t 281083300044; t 270580300045
	fill 8
	stage_files 1 -

	# Auto-École Beauceronne: its approval ended on 31 December 2025.
	stage $C40 BC-2026-1105 2026-11-05 2026-11-06
	fill 8
	stage_files 1 1

	# The licence the registry did not know, for Wednesday's import.
	printf 'licence,surname,given_names,birth_date,issued,probation_end,status,status_date\n991205300777,KOWALCZYK,Adam,1990-05-05,2012-09-01,,valid,\n' \
		> "$REG/licences-late.csv"
	printf 'licence,effective_date,kind,points,ref\n991205300777,2012-09-01,grant,12,DEMO-G-991205300777\n991205300777,2026-06-03,retrait,-3,DEMO-R-991205300777\n' \
		> "$REG/events-late.csv"
}
